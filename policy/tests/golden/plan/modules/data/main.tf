resource "aws_db_instance" "billing" {
  parameter_group_name = "orders-pg"
}
