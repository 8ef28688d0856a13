# The forge token lives here, as the secret forge_token_secret_name. Terraform never sees
# its value: an officer (secret_officer_object_ids) sets it with `az keyvault secret set`,
# and the function reads it through a Key Vault reference in its settings.

resource "azurerm_key_vault" "main" {
  #checkov:skip=CKV_AZURE_109:Network default action Allow: the platform resolves the Key Vault reference from outside any VNet here; access is by role (RBAC authorisation) only.
  #checkov:skip=CKV_AZURE_189:Public network access is needed for the same reason.
  #checkov:skip=CKV2_AZURE_32:No private endpoint: see CKV_AZURE_109.
  name                          = "${var.name}-kv-${local.suffix}"
  resource_group_name           = local.resource_group_name
  location                      = var.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = true
  tags                          = local.tags

  network_acls {
    default_action = "Allow"
    bypass         = "AzureServices"
  }
}

# Who may set (and rotate) the token.
resource "azurerm_role_assignment" "secret_officers" {
  for_each             = toset(var.secret_officer_object_ids)
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = each.value
  description          = "mlgate: set the forge token"
}
