# Two storage accounts, both refusing shared keys (Entra ID only) and anonymous access:
#
# - data: the containers uploads land in, the mlgate store, and Event Grid's dead letters;
# - host: the Functions host's own state (AzureWebJobsStorage) and the deployment package.
#   The host needs Storage Blob Data Owner on its account; a separate account keeps that
#   role away from the data.

resource "azurerm_storage_account" "data" {
  #checkov:skip=CKV_AZURE_59:Public endpoint, Entra ID only: the Flex app runs without a VNet here and CI runners (GitHub-hosted) have no fixed addresses; shared keys and anonymous access are off.
  #checkov:skip=CKV_AZURE_35:Network default action Allow, for the same reason; access is by role assignment only.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: see CKV_AZURE_59.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys plus infrastructure (double) encryption; a customer-managed key adds a key to rotate and keep alive for no requirement mlgate has.
  #checkov:skip=CKV_AZURE_33:No queues are used in this account, so there is no queue logging to keep.
  name                              = "${var.name}data${local.suffix}"
  resource_group_name               = local.resource_group_name
  location                          = var.location
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.data_replication_type
  access_tier                       = "Hot"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  public_network_access_enabled     = true
  infrastructure_encryption_enabled = true
  cross_tenant_replication_enabled  = false
  local_user_enabled                = false
  tags                              = local.tags

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = var.soft_delete_days
    }

    container_delete_retention_policy {
      days = var.soft_delete_days
    }
  }

  # Shared keys are off, so no SAS can be signed with them; a short policy in case they
  # are ever turned on.
  sas_policy {
    expiration_period = "00.01:00:00"
  }
}

resource "azurerm_storage_container" "data" {
  #checkov:skip=CKV2_AZURE_21:Blob reads, writes and deletes are logged by the account's diagnostic setting (monitoring.tf); storage insights would need the account key, which is disabled.
  for_each              = var.data_containers
  name                  = each.key
  storage_account_id    = azurerm_storage_account.data.id
  container_access_type = "private"
}

resource "azurerm_storage_container" "store" {
  #checkov:skip=CKV2_AZURE_21:Blob reads, writes and deletes are logged by the account's diagnostic setting (monitoring.tf); storage insights would need the account key, which is disabled.
  name                  = var.store_container
  storage_account_id    = azurerm_storage_account.data.id
  container_access_type = "private"

  lifecycle {
    precondition {
      condition     = !contains(keys(var.data_containers), var.store_container) && var.dead_letter_container != var.store_container && !contains(keys(var.data_containers), var.dead_letter_container)
      error_message = "store_container, dead_letter_container and the data_containers must be different containers."
    }
  }
}

resource "azurerm_storage_container" "dead_letter" {
  #checkov:skip=CKV2_AZURE_21:Blob reads, writes and deletes are logged by the account's diagnostic setting (monitoring.tf); storage insights would need the account key, which is disabled.
  name                  = var.dead_letter_container
  storage_account_id    = azurerm_storage_account.data.id
  container_access_type = "private"
}

# Versioning keeps every overwritten published pointer and claim; previous versions go
# after noncurrent_version_days, dead letters after a month.
resource "azurerm_storage_management_policy" "data" {
  storage_account_id = azurerm_storage_account.data.id

  rule {
    name    = "previous-versions"
    enabled = true

    filters {
      blob_types = ["blockBlob"]
    }

    actions {
      version {
        delete_after_days_since_creation = var.noncurrent_version_days
      }
    }
  }

  rule {
    name    = "dead-letters"
    enabled = true

    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${var.dead_letter_container}/"]
    }

    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = 30
      }
    }
  }
}

resource "azurerm_storage_account" "host" {
  #checkov:skip=CKV_AZURE_59:Public endpoint, Entra ID only: the Flex app runs without a VNet here; shared keys and anonymous access are off.
  #checkov:skip=CKV_AZURE_35:Network default action Allow, for the same reason; access is by role assignment only.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: see CKV_AZURE_59.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys plus infrastructure encryption; the account holds only the host's state and the deployment package.
  #checkov:skip=CKV_AZURE_206:Locally redundant: the host's state and the package are rebuilt by a redeploy.
  #checkov:skip=CKV_AZURE_33:The host's queues hold no mlgate data; its activity is in Application Insights.
  name                              = "${var.name}host${local.suffix}"
  resource_group_name               = local.resource_group_name
  location                          = var.location
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = "LRS"
  access_tier                       = "Hot"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  public_network_access_enabled     = true
  infrastructure_encryption_enabled = true
  cross_tenant_replication_enabled  = false
  local_user_enabled                = false
  tags                              = local.tags

  blob_properties {
    delete_retention_policy {
      days = var.soft_delete_days
    }

    container_delete_retention_policy {
      days = var.soft_delete_days
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00"
  }
}

# Flex Consumption runs the app from a package in this container.
resource "azurerm_storage_container" "package" {
  #checkov:skip=CKV2_AZURE_21:Holds only the deployment package, written by `az functionapp deployment`; its changes are in the activity log.
  name                  = "app-package"
  storage_account_id    = azurerm_storage_account.host.id
  container_access_type = "private"
}
