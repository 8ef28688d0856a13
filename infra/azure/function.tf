# The function: an Azure Functions custom handler (functions/azure/, the Rust binary
# `handler`) on the Flex Consumption plan. Flex runs custom handlers (runtime `custom`),
# scales to zero and bills only executions when no instance is kept always ready; it
# reaches the host's storage by managed identity. Its blob trigger must use the Event Grid
# source, which is how mlgate's blob trigger is declared anyway.

resource "azurerm_service_plan" "function" {
  #checkov:skip=CKV_AZURE_211:Flex Consumption (FC1) is serverless: there is no instance SKU to size up.
  #checkov:skip=CKV_AZURE_212:Flex Consumption scales out per event; there is no minimum instance count to set.
  #checkov:skip=CKV_AZURE_225:Zone redundancy on Flex needs always-ready instances, a cost at rest; uploads missed while a zone is down wait in Event Grid's retries (24 h).
  name                = "${var.name}-plan-${local.suffix}"
  resource_group_name = local.resource_group_name
  location            = var.location
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = local.tags
}

locals {
  # The identity's settings, shared by every connection the host and the handler make.
  identity_settings = {
    credential = "managedidentity"
    clientId   = azurerm_user_assigned_identity.function.client_id
  }

  app_settings = merge(
    {
      # The host's own storage, by managed identity (no connection string, no key).
      "AzureWebJobsStorage__accountName" = azurerm_storage_account.host.name
      "AzureWebJobsStorage__credential"  = local.identity_settings.credential
      "AzureWebJobsStorage__clientId"    = local.identity_settings.clientId

      # Telemetry with Entra ID.
      "APPLICATIONINSIGHTS_CONNECTION_STRING"     = azurerm_application_insights.main.connection_string
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" = "ClientId=${local.identity_settings.clientId};Authorization=AAD"

      # What the handler reads (docs/functions.md).
      "MLGATE_STORE"             = local.store_uri
      "MLGATE_AZURE_ACCOUNT_URL" = local.data_account_url
      "AZURE_CLIENT_ID"          = local.identity_settings.clientId
      "MLGATE_LOG"               = var.log_level

      # The blob trigger (`blob-uploaded`, Event Grid source): its connection, by identity,
      # and the container its path names (functions/azure/blob-uploaded/function.json).
      "MLGATE_DATA_STORAGE__blobServiceUri"  = local.data_account_url
      "MLGATE_DATA_STORAGE__queueServiceUri" = trimsuffix(azurerm_storage_account.data.primary_queue_endpoint, "/")
      "MLGATE_DATA_STORAGE__credential"      = local.identity_settings.credential
      "MLGATE_DATA_STORAGE__clientId"        = local.identity_settings.clientId
      "MLGATE_UPLOAD_CONTAINER"              = local.upload_container
    },
    {
      (local.forge_token_setting) = "@Microsoft.KeyVault(SecretUri=${local.forge_token_uri})"
    },
  )
}

resource "azapi_resource" "function" {
  type      = "Microsoft.Web/sites@2024-04-01"
  name      = "${var.name}-func-${local.suffix}"
  parent_id = local.resource_group_id
  location  = var.location
  tags      = local.tags
  # The runtime name `custom` (custom handlers on Flex, since 2025) is accepted by the
  # service but missing from the enum of some published API schemas.
  schema_validation_enabled = false

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.function.id]
  }

  body = {
    kind = "functionapp,linux"
    properties = {
      serverFarmId              = azurerm_service_plan.function.id
      httpsOnly                 = true
      clientCertEnabled         = false
      keyVaultReferenceIdentity = azurerm_user_assigned_identity.function.id
      siteConfig = {
        minTlsVersion    = "1.2"
        scmMinTlsVersion = "1.2"
        http20Enabled    = true
        appSettings      = [for k, v in local.app_settings : { name = k, value = v }]
      }
      functionAppConfig = {
        deployment = {
          storage = {
            type  = "blobContainer"
            value = "${azurerm_storage_account.host.primary_blob_endpoint}${azurerm_storage_container.package.name}"
            authentication = {
              type                           = "UserAssignedIdentity"
              userAssignedIdentityResourceId = azurerm_user_assigned_identity.function.id
            }
          }
        }
        runtime = {
          name    = "custom"
          version = "1.0"
        }
        scaleAndConcurrency = {
          maximumInstanceCount = var.maximum_instance_count
          instanceMemoryMB     = var.instance_memory_mb
        }
      }
    }
  }

  response_export_values = ["properties.defaultHostName"]

  lifecycle {
    precondition {
      condition     = contains(keys(var.data_containers), local.upload_container)
      error_message = "upload_container must be one of data_containers."
    }
  }

  # The host starts with these settings: it must be able to reach its storage and the
  # vault from the first start.
  depends_on = [
    azurerm_role_assignment.function_host,
    azurerm_role_assignment.function_secrets,
  ]
}

# Publishing uses Entra ID (`az functionapp deployment source config-zip`); basic
# (user name and password) publishing credentials are turned off.
resource "azapi_resource" "function_no_basic_auth" {
  for_each  = toset(["scm", "ftp"])
  type      = "Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01"
  name      = each.key
  parent_id = azapi_resource.function.id
  body = {
    properties = {
      allow = false
    }
  }
}
