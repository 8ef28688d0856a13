# New blobs reach the function through Event Grid: a system topic on the data account and
# one subscription per watched prefix, delivering Microsoft.Storage.BlobCreated to the
# function `blob-created` (an eventGridTrigger). Deliveries are retried for up to
# event_ttl_minutes; what still fails is dead-lettered to dead_letter_container, written
# with the topic's own managed identity.

resource "azurerm_eventgrid_system_topic" "data" {
  name                = "${var.name}-data-events-${local.suffix}"
  resource_group_name = local.resource_group_name
  location            = var.location
  source_resource_id  = azurerm_storage_account.data.id
  topic_type          = "Microsoft.Storage.StorageAccounts"
  tags                = local.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_role_assignment" "events_dead_letter" {
  scope                = azurerm_storage_container.dead_letter.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_eventgrid_system_topic.data.identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "mlgate Event Grid topic: write dead letters"
}

resource "azurerm_eventgrid_system_topic_event_subscription" "blob_created" {
  for_each            = var.subscribe_events ? local.watches : {}
  name                = each.value.name
  system_topic        = azurerm_eventgrid_system_topic.data.name
  resource_group_name = local.resource_group_name

  included_event_types = ["Microsoft.Storage.BlobCreated"]

  subject_filter {
    subject_begins_with = "/blobServices/default/containers/${each.value.container}/blobs/${each.value.prefix}"
    case_sensitive      = true
  }

  # A blob counts once it is committed whole: a single Put Blob, the Put Block List that
  # ends a block upload, a copy, or the flush that closes a Data Lake file.
  advanced_filter {
    string_in {
      key    = "data.api"
      values = ["PutBlob", "PutBlockList", "CopyBlob", "FlushWithClose"]
    }
  }

  azure_function_endpoint {
    function_id                       = "${azapi_resource.function.id}/functions/blob-created"
    max_events_per_batch              = 1
    preferred_batch_size_in_kilobytes = 64
  }

  retry_policy {
    max_delivery_attempts = var.event_max_delivery_attempts
    event_time_to_live    = var.event_ttl_minutes
  }

  dead_letter_identity {
    type = "SystemAssigned"
  }

  storage_blob_dead_letter_destination {
    storage_account_id          = azurerm_storage_account.data.id
    storage_blob_container_name = azurerm_storage_container.dead_letter.name
  }

  depends_on = [azurerm_role_assignment.events_dead_letter]
}
