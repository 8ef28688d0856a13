data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "main" {
  count    = var.create_resource_group ? 1 : 0
  name     = local.wanted_resource_group
  location = var.location
  tags     = local.tags
}

data "azurerm_resource_group" "existing" {
  count = var.create_resource_group ? 0 : 1
  name  = local.wanted_resource_group
}

# Storage account, key vault and function app names are global: a suffix keeps them apart.
resource "random_string" "suffix" {
  length  = 6
  upper   = false
  special = false
}

locals {
  wanted_resource_group = coalesce(var.resource_group_name, "rg-${var.name}")
  # Read back from the resource, so that everything in the group waits for it.
  resource_group_name = var.create_resource_group ? azurerm_resource_group.main[0].name : data.azurerm_resource_group.existing[0].name
  resource_group_id   = var.create_resource_group ? azurerm_resource_group.main[0].id : data.azurerm_resource_group.existing[0].id
  suffix              = random_string.suffix.result
  tags                = merge({ project = "mlgate" }, var.tags)

  # What the store URI and the function's settings say.
  store_uri        = "az://${var.store_container}/${var.store_prefix}"
  data_account_url = trimsuffix(azurerm_storage_account.data.primary_blob_endpoint, "/")

  # One Event Grid subscription per watched prefix.
  watches = merge([
    for container, c in var.data_containers : {
      for prefix in c.watch_prefixes : "${container}/${prefix}" => {
        container = container
        prefix    = prefix
        name      = "${var.name}-${substr(container, 0, 36)}-${substr(md5("${container}/${prefix}"), 0, 8)}"
      }
    }
  ]...)

  # The container the blob trigger `blob-uploaded` watches.
  upload_container = coalesce(var.upload_container, sort(keys(var.data_containers))[0])

  writable_data = { for container, c in var.data_containers : container => c if length(c.write_prefixes) > 0 }
  readonly_data = { for container, c in var.data_containers : container => c if length(c.write_prefixes) == 0 }

  # Role assignment conditions (Azure ABAC, version 2.0): they narrow what a blob data role
  # allows inside its container. infra/permissions/azure.yaml says which assignment carries
  # which, and why.
  blob_action_write  = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
  blob_action_add    = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"
  blob_action_delete = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"
  blob_action_move   = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action"
  blob_path          = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
  container_name     = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]"

  # Never delete or move a blob: allowed only in a container other than the one the role
  # is assigned on, that is never.
  no_delete = {
    for container in concat(keys(var.data_containers), [var.store_container]) : container => format(
      "((!(ActionMatches{'%s'}) AND !(ActionMatches{'%s'})) OR (%s StringNotEquals '%s'))",
      local.blob_action_delete, local.blob_action_move, local.container_name, container,
    )
  }

  # Create or overwrite blobs only under the given prefixes.
  writes_under = merge(
    {
      for container, c in local.writable_data : container => format(
        "((!(ActionMatches{'%s'}) AND !(ActionMatches{'%s'})) OR (%s))",
        local.blob_action_write, local.blob_action_add,
        join(" OR ", [for p in c.write_prefixes : "${local.blob_path} StringStartsWith '${p}'"]),
      )
    },
    {
      (var.store_container) = format(
        "((!(ActionMatches{'%s'}) AND !(ActionMatches{'%s'})) OR (%s StringStartsWith '%s/'))",
        local.blob_action_write, local.blob_action_add, local.blob_path, var.store_prefix,
      )
    },
  )

  # The forge token, read by the platform from the vault (a Key Vault reference); the
  # versionless URI follows the newest version of the secret.
  forge_token_setting = var.forge == "github" ? "GITHUB_TOKEN" : "GITLAB_TOKEN"
  forge_token_uri     = "${azurerm_key_vault.main.vault_uri}secrets/${var.forge_token_secret_name}"
}
