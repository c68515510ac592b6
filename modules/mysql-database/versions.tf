terraform {
  # Validation blocks with clear messages need >= 0.13; the module is tested with Terraform 1.0.3.
  required_version = ">= 1.0.3"

  required_providers {
    dbplatform = {
      source = "dbplatform/dbplatform"
    }
  }
}
