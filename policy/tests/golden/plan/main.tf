# Configuration matching plan.json (locations for SARIF and GitHub annotations).
resource "aws_db_parameter_group" "pg" {
  family = "postgres16"
}

resource "aws_db_instance" "orders" {
  engine = "postgres"
}

resource "aws_db_instance" "shop" {
  engine = "postgres"
}

resource "aws_db_instance" "reports" {
  engine = "postgres"
}

resource "aws_db_subnet_group" "data" {
  name = "data"
}

resource "aws_rds_cluster_parameter_group" "main" {
  family = "aurora-postgresql16"
}

module "data" {
  source   = "./modules/data"
  for_each = toset(var.regions)
}
