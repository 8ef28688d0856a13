# The function's identity and everything it may do. Each assignment is listed, with the
# operations that need it, in infra/permissions/azure.yaml; the checker fails on any
# assignment not listed there, broader than listed, or missing.

resource "azurerm_user_assigned_identity" "function" {
  name                = "${var.name}-function"
  resource_group_name = local.resource_group_name
  location            = var.location
  tags                = local.tags
}

# Data containers the function writes to (quarantine and predictions prefixes): read the
# uploads, create blobs under the write prefixes only, never delete.
resource "azurerm_role_assignment" "function_data_write" {
  for_each             = local.writable_data
  scope                = azurerm_storage_container.data[each.key].id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.function.principal_id
  principal_type       = "ServicePrincipal"
  condition_version    = "2.0"
  condition            = "${local.writes_under[each.key]} AND ${local.no_delete[each.key]}"
  description          = "mlgate function: read uploads; write quarantine and predictions prefixes only; no deletes"
}

# Data containers the function only reads.
resource "azurerm_role_assignment" "function_data_read" {
  for_each             = local.readonly_data
  scope                = azurerm_storage_container.data[each.key].id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.function.principal_id
  principal_type       = "ServicePrincipal"
  description          = "mlgate function: read uploads"
}

# The store: read the published project, list it, create claims, reports and audit
# records and move claims on (overwrite), under the store prefix only; never delete.
resource "azurerm_role_assignment" "function_store" {
  scope                = azurerm_storage_container.store.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.function.principal_id
  principal_type       = "ServicePrincipal"
  condition_version    = "2.0"
  condition            = "${local.writes_under[var.store_container]} AND ${local.no_delete[var.store_container]}"
  description          = "mlgate function: the store, under its prefix; no deletes"
}

# The Functions host's own state and the deployment package, in the host account alone.
resource "azurerm_role_assignment" "function_host" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.function.principal_id
  principal_type       = "ServicePrincipal"
  description          = "mlgate function host: AzureWebJobsStorage and the deployment package"
}

# The forge token, through the platform's Key Vault reference.
resource "azurerm_role_assignment" "function_secrets" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.function.principal_id
  principal_type       = "ServicePrincipal"
  description          = "mlgate function: read the forge token"
}

# Telemetry to Application Insights with Entra ID (its local keys are off).
resource "azurerm_role_assignment" "function_telemetry" {
  scope                = azurerm_application_insights.main.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = azurerm_user_assigned_identity.function.principal_id
  principal_type       = "ServicePrincipal"
  description          = "mlgate function: send telemetry"
}
