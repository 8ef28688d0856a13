variable "subscription_id" {
  description = "The Azure subscription to deploy into."
  type        = string
}

variable "location" {
  description = "Azure region. It must offer the Flex Consumption plan: `az functionapp list-flexconsumption-locations`."
  type        = string
}

variable "name" {
  description = "Short name that every resource name starts with (lowercase letters and digits, 2 to 12)."
  type        = string
  default     = "mlgate"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.name))
    error_message = "name: 2 to 12 lowercase letters and digits, starting with a letter (it goes into storage account names)."
  }
}

variable "create_resource_group" {
  description = "Create the resource group (true) or deploy into an existing one named by resource_group_name (false)."
  type        = bool
  default     = true
}

variable "resource_group_name" {
  description = "The resource group's name. Default: rg-<name>."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags put on every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "data_containers" {
  description = <<-EOT
    The containers uploads land in (a trigger rule's `bucket`), each with the prefixes
    the function watches (one Event Grid subscription per prefix) and the prefixes it
    writes to: the rules' `quarantine` and `predictions` prefixes. A container with no
    write prefixes is only read.
  EOT
  type = map(object({
    watch_prefixes = list(string)
    write_prefixes = list(string)
  }))

  validation {
    condition     = length(var.data_containers) > 0
    error_message = "data_containers: at least one container."
  }

  validation {
    condition     = alltrue([for c in keys(var.data_containers) : can(regex("^[a-z0-9](-?[a-z0-9]){2,62}$", c))])
    error_message = "data_containers: container names are 3 to 63 lowercase letters, digits and single hyphens."
  }

  validation {
    condition     = alltrue(flatten([for c in values(var.data_containers) : [for p in concat(c.watch_prefixes, c.write_prefixes) : can(regex("^[^/'][^']*/$", p))]]))
    error_message = "data_containers: every prefix ends with '/', does not start with one and has no quote, e.g. \"churn/incoming/\"."
  }

  validation {
    condition     = alltrue(flatten([for c in values(var.data_containers) : [for w in c.write_prefixes : [for p in c.watch_prefixes : !startswith(w, p) && !startswith(p, w)]]]))
    error_message = "data_containers: a write prefix (quarantine, predictions) must lie outside every watched prefix, or the function's own writes would trigger it again."
  }
}

variable "upload_container" {
  description = "The data container the blob trigger `blob-uploaded` names (MLGATE_UPLOAD_CONTAINER). Default: the first data container by name."
  type        = string
  default     = null
}

variable "store_container" {
  description = "The container of the mlgate store (`az://<store_container>/<store_prefix>`)."
  type        = string
  default     = "mlgate"
}

variable "store_prefix" {
  description = "The store's prefix inside store_container, without slashes at either end."
  type        = string
  default     = "store"

  validation {
    condition     = can(regex("^[^/']([^']*[^/'])?$", var.store_prefix))
    error_message = "store_prefix: no slash at either end and no quote, e.g. \"store\"."
  }
}

variable "dead_letter_container" {
  description = "Container (in the data account) where Event Grid leaves the events it could not deliver."
  type        = string
  default     = "mlgate-deadletter"
}

variable "data_replication_type" {
  description = "Replication of the data account: GRS (default) keeps a copy in the paired region; GZRS adds zone redundancy where the region has zones; ZRS or LRS stay in one region."
  type        = string
  default     = "GRS"
}

variable "soft_delete_days" {
  description = "Days a deleted blob, blob version or container can still be restored."
  type        = number
  default     = 7
}

variable "noncurrent_version_days" {
  description = "Days a blob's previous versions are kept after it is overwritten (versioning is on), then deleted."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days Log Analytics keeps the function's logs and traces (30 to 730)."
  type        = number
  default     = 30
}

variable "log_daily_cap_gb" {
  description = "Daily ingestion cap of the Log Analytics workspace in GB (-1: none)."
  type        = number
  default     = 1
}

variable "forge" {
  description = "Where promotions go: github or gitlab. The token setting is GITHUB_TOKEN or GITLAB_TOKEN accordingly."
  type        = string
  default     = "github"

  validation {
    condition     = contains(["github", "gitlab"], var.forge)
    error_message = "forge: github or gitlab."
  }
}

variable "forge_token_secret_name" {
  description = "Name of the Key Vault secret holding the forge token; its value is set out of band (docs/deploy-azure.md)."
  type        = string
  default     = "forge-token"
}

variable "secret_officer_object_ids" {
  description = "Entra object ids (people, groups) allowed to set the forge token in the vault (Key Vault Secrets Officer)."
  type        = list(string)
  default     = []
}

variable "log_level" {
  description = "MLGATE_LOG: the function's log filter."
  type        = string
  default     = "info"
}

variable "instance_memory_mb" {
  description = "Memory of each Flex Consumption instance: 512, 2048 or 4096 MB."
  type        = number
  default     = 2048

  validation {
    condition     = contains([512, 2048, 4096], var.instance_memory_mb)
    error_message = "instance_memory_mb: 512, 2048 or 4096."
  }
}

variable "maximum_instance_count" {
  description = "Most instances the function scales out to (1 to 1000)."
  type        = number
  default     = 10
}

variable "subscribe_events" {
  description = "Create the Event Grid subscriptions. Event Grid checks that the function exists, so the very first apply (before the code is published) sets this to false."
  type        = bool
  default     = true
}

variable "event_max_delivery_attempts" {
  description = "Event Grid delivery attempts per event before it is dead-lettered (1 to 30)."
  type        = number
  default     = 30
}

variable "event_ttl_minutes" {
  description = "Minutes Event Grid keeps retrying an event before it is dead-lettered (1 to 1440)."
  type        = number
  default     = 1440
}

variable "github_repository" {
  description = "owner/repo whose GitHub Actions may sign in with OIDC as the CI identity; null: no CI identity."
  type        = string
  default     = null
}

variable "github_oidc_subjects" {
  description = "What of github_repository may sign in, as the token subject after `repo:<owner>/<repo>:`."
  type        = list(string)
  default     = ["ref:refs/heads/main"]
}

variable "ci_reads_data" {
  description = "Also let the CI identity read the data containers (training data kept there)."
  type        = bool
  default     = false
}
