# Optional: an identity for the CI steps (`mlgate deploy` publishing to the store, the
# retrain workflow reading and writing versions) that GitHub Actions sign in as with OIDC,
# no secret stored anywhere. Created when github_repository is set.

resource "azurerm_user_assigned_identity" "ci" {
  count               = var.github_repository == null ? 0 : 1
  name                = "${var.name}-ci"
  resource_group_name = local.resource_group_name
  location            = var.location
  tags                = local.tags
}

resource "azurerm_federated_identity_credential" "github" {
  for_each            = var.github_repository == null ? toset([]) : toset(var.github_oidc_subjects)
  name                = "github-${substr(md5(each.value), 0, 12)}"
  resource_group_name = local.resource_group_name
  parent_id           = azurerm_user_assigned_identity.ci[0].id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = "https://token.actions.githubusercontent.com"
  subject             = "repo:${var.github_repository}:${each.value}"
}

# The store: read, create versions and overwrite published pointers, under the store
# prefix only; never delete.
resource "azurerm_role_assignment" "ci_store" {
  count                = var.github_repository == null ? 0 : 1
  scope                = azurerm_storage_container.store.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.ci[0].principal_id
  principal_type       = "ServicePrincipal"
  condition_version    = "2.0"
  condition            = "${local.writes_under[var.store_container]} AND ${local.no_delete[var.store_container]}"
  description          = "mlgate CI: the store, under its prefix; no deletes"
}

resource "azurerm_role_assignment" "ci_data_read" {
  for_each             = var.github_repository != null && var.ci_reads_data ? var.data_containers : {}
  scope                = azurerm_storage_container.data[each.key].id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.ci[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "mlgate CI: read training data"
}
