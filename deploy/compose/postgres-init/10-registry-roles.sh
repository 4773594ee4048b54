#!/bin/sh
# Runs once, when the postgres container starts on an empty data volume (docker-entrypoint-initdb.d).
# One login role per service: it may create schemas in the registry database, and the schema it creates
# (its own, at its first start) is owned by it, so no service can read another's tables.
set -eu
for service in intake verification evaluations enforcement; do
	variable="REGISTRY_DB_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
	password=$(printenv "$variable" || true)
	if [ -z "$password" ]; then
		echo "10-registry-roles: $variable is not set in env/postgres.env" >&2
		exit 1
	fi
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
		-v role="$service" -v password="$password" -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
GRANT CONNECT, CREATE ON DATABASE :"database" TO :"role";
SQL
done
