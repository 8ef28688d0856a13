# Logs and traces: a Log Analytics workspace with a retention and a daily cap, and the
# Application Insights resource the host sends to (Entra ID only: no instrumentation key
# accepted).

resource "azurerm_log_analytics_workspace" "main" {
  name                = "${var.name}-logs-${local.suffix}"
  resource_group_name = local.resource_group_name
  location            = var.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  daily_quota_gb      = var.log_daily_cap_gb
  tags                = local.tags
}

resource "azurerm_application_insights" "main" {
  name                          = "${var.name}-insights-${local.suffix}"
  resource_group_name           = local.resource_group_name
  location                      = var.location
  application_type              = "other"
  workspace_id                  = azurerm_log_analytics_workspace.main.id
  local_authentication_disabled = true
  tags                          = local.tags
}

# Who read, wrote or deleted which blob of the data account (uploads, the store): the
# audit trail of the data, queryable in the workspace (StorageBlobLogs).
resource "azurerm_monitor_diagnostic_setting" "data_blobs" {
  name                       = "${var.name}-blob-audit"
  target_resource_id         = "${azurerm_storage_account.data.id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "StorageRead"
  }

  enabled_log {
    category = "StorageWrite"
  }

  enabled_log {
    category = "StorageDelete"
  }
}

# Every read of the forge token (AzureDiagnostics, AuditEvent).
resource "azurerm_monitor_diagnostic_setting" "key_vault" {
  name                       = "${var.name}-vault-audit"
  target_resource_id         = azurerm_key_vault.main.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "AuditEvent"
  }
}

# Events Event Grid failed to deliver (before they are dead-lettered).
resource "azurerm_monitor_diagnostic_setting" "events" {
  name                       = "${var.name}-event-failures"
  target_resource_id         = azurerm_eventgrid_system_topic.data.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "DeliveryFailures"
  }
}
