output "resource_group_name" {
  description = "The resource group everything is in."
  value       = local.resource_group_name
}

output "function_app_name" {
  description = "The function app: `az functionapp deployment source config-zip --name` this."
  value       = azapi_resource.function.name
}

output "function_app_id" {
  description = "The function app's resource id."
  value       = azapi_resource.function.id
}

output "function_app_hostname" {
  description = "The function app's default host name."
  value       = azapi_resource.function.output.properties.defaultHostName
}

output "function_identity_client_id" {
  description = "Client id of the function's managed identity (its AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.function.client_id
}

output "function_identity_principal_id" {
  description = "Object id of the function's managed identity."
  value       = azurerm_user_assigned_identity.function.principal_id
}

output "data_storage_account" {
  description = "The data account: uploads, the store and dead letters."
  value       = azurerm_storage_account.data.name
}

output "mlgate_azure_account_url" {
  description = "MLGATE_AZURE_ACCOUNT_URL: the data account's blob endpoint."
  value       = local.data_account_url
}

output "store_uri" {
  description = "MLGATE_STORE, and the `store:` of mlgate.yaml."
  value       = local.store_uri
}

output "data_containers" {
  description = "The data containers (a trigger rule's `bucket`)."
  value       = [for c in azurerm_storage_container.data : c.name]
}

output "dead_letter_container" {
  description = "Where Event Grid leaves the events it could not deliver."
  value       = azurerm_storage_container.dead_letter.name
}

output "event_subscriptions" {
  description = "Event Grid subscription per watched container/prefix."
  value       = { for k, s in azurerm_eventgrid_system_topic_event_subscription.blob_created : k => s.name }
}

output "key_vault_name" {
  description = "The vault holding the forge token."
  value       = azurerm_key_vault.main.name
}

output "forge_token_secret_uri" {
  description = "The forge token's secret (versionless): set its value with `az keyvault secret set`."
  value       = local.forge_token_uri
}

output "application_insights_name" {
  description = "Where the function's logs and traces go."
  value       = azurerm_application_insights.main.name
}

output "tenant_id" {
  description = "Entra tenant: azure/login's tenant-id."
  value       = data.azurerm_client_config.current.tenant_id
}

output "subscription_id" {
  description = "azure/login's subscription-id."
  value       = var.subscription_id
}

output "ci_identity_client_id" {
  description = "azure/login's client-id for CI (null without github_repository)."
  value       = one(azurerm_user_assigned_identity.ci[*].client_id)
}
