# mlgate on Azure: the upload function (an Azure Functions custom handler on the Flex
# Consumption plan), the data and store containers it works on, Event Grid delivering
# BlobCreated to it, and the identities and roles, least privilege. docs/deploy-azure.md
# tells how to deploy, update and tear it down; infra/permissions/azure.yaml lists every
# permission and why, and tests/infra/check-azure-permissions.py holds this code to it.

terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 is the first with `rbac_authorization_enabled` on the key vault.
      version = "~> 4.42"
    }
    # The function app itself: the azurerm flex-consumption resource injects an
    # `AzureWebJobsStorage` connection string with an empty key even when the host's
    # storage is reached by managed identity, which breaks a host whose storage account
    # refuses shared keys (hashicorp/terraform-provider-azurerm#29693, #30732). azapi
    # sends exactly the settings written here.
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "azurerm" {
  subscription_id = var.subscription_id
  # Shared keys are off on both storage accounts: whatever the provider does on the data
  # plane, it does with Entra ID.
  storage_use_azuread = true

  features {
    key_vault {
      # Purge protection is on; never try to purge on destroy.
      purge_soft_delete_on_destroy = false
    }
  }
}

provider "azapi" {
  subscription_id = var.subscription_id
}
