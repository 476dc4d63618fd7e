path "app/data/{{identity.entity.metadata.team}}/*" {
  capabilities = ["read", "list"]
}
