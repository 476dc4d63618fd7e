path "sys/audit" {
  capabilities = ["read", "sudo"]
}
path "app/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
