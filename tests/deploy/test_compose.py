"""compose.yaml (the real dependencies, for Docker users; never run here): valid against the Compose Specification's
schema (deploy/schemas/upstream/compose-spec.json, which rejects a broken file), and consistent with what the
README tells people to export before scripts/run, with scripts/run's own defaults (the S3 keys, the users client's
secret), the runtime's bucket and the realm export: a replica set rs0 reachable from the host, RabbitMQ with quorum
queues by default, MinIO with the bucket, Keycloak importing the realm at the issuer the functions will trust."""
from __future__ import annotations

import copy
import json
import os
import re
from urllib.parse import urlsplit

import pika
import pytest
import yaml
from jsonschema import Draft7Validator
from pymongo.uri_parser import parse_uri

from localrunner.app import S3_DEV_KEY, USERS_SERVICE_SECRET
from manifests_support import ROOT
from runtime.config import Config
from runtime.storage import storage_from_config

with open(os.path.join(ROOT, "compose.yaml")) as f:
    COMPOSE = yaml.safe_load(f)
SERVICES = COMPOSE["services"]
with open(os.path.join(ROOT, "deploy", "schemas", "upstream", "compose-spec.json")) as f:
    COMPOSE_SPEC = Draft7Validator(json.load(f))
with open(os.path.join(ROOT, "deploy", "keycloak", "eventonight-realm.json")) as f:
    REALM = json.load(f)


def readme_exports() -> dict[str, str]:
    """``export NAME='value'`` lines of the README's section on the real dependencies."""
    with open(os.path.join(ROOT, "README.md")) as f:
        section = f.read().split("## Against the real dependencies", 1)[1].split("\n## ", 1)[0]
    return {name: value for name, value in re.findall(r"^export (\w+)='([^']*)'$", section, re.M)}


EXPORTS = readme_exports()


def published(service: str, container_port: int) -> tuple[str, int]:
    """(host address, host port) the service's container port is published on."""
    for mapping in SERVICES[service]["ports"]:
        host, host_port, port = mapping.split(":")
        if int(port) == container_port:
            return host, int(host_port)
    raise AssertionError(f"{service} does not publish {container_port}")


def test_compose_file_is_valid_against_the_compose_specification():
    assert [e.message for e in COMPOSE_SPEC.iter_errors(COMPOSE)] == []


@pytest.mark.parametrize("break_it", ["unknown service key", "condition typo", "port as a list of lists"])
def test_the_schema_rejects_a_broken_compose_file(break_it):
    broken = copy.deepcopy(COMPOSE)
    if break_it == "unknown service key":
        broken["services"]["mongo"]["healthckeck"] = broken["services"]["mongo"].pop("healthcheck")
    elif break_it == "condition typo":
        broken["services"]["mongo-init"]["depends_on"]["mongo"]["condition"] = "service_ready"
    else:
        broken["services"]["rabbitmq"]["ports"] = [["5672", "5672"]]
    assert list(COMPOSE_SPEC.iter_errors(broken))


def test_readme_and_the_files_header_export_the_same_settings():
    assert set(EXPORTS) == {"MONGO_URI", "AMQP_URL", "S3_ENDPOINT_URL", "OIDC_ISSUER"}
    with open(os.path.join(ROOT, "compose.yaml")) as f:
        header = "".join(line for line in f if line.startswith("#"))
    for name, value in EXPORTS.items():
        assert f"{name}='{value}'" in header or f"{name}={value}" in header, name


def test_mongodb_is_a_replica_set_the_host_can_discover():
    mongo = SERVICES["mongo"]
    uri = parse_uri(EXPORTS["MONGO_URI"])
    replica_set = uri["options"]["replicaSet"]
    assert mongo["command"][mongo["command"].index("--replSet") + 1] == replica_set
    host, port = published("mongo", 27017)
    assert uri["nodelist"] == [(host, port)]
    initiate = " ".join(SERVICES["mongo-init"]["command"])
    assert f'_id: "{replica_set}"' in initiate
    # the member's name is what clients on the host are told to connect to, so it must be reachable from there
    assert re.search(r'host: "localhost:(\d+)"', initiate).group(1) == str(port)
    assert SERVICES["mongo-init"]["depends_on"]["mongo"]["condition"] == "service_healthy"


def test_rabbitmq_defaults_to_quorum_queues_and_takes_the_documented_url():
    [mounted] = SERVICES["rabbitmq"]["configs"]
    settings = dict(line.split(" = ") for line in COMPOSE["configs"][mounted["source"]]["content"].splitlines())
    assert settings["default_queue_type"] == "quorum"
    assert mounted["target"].startswith("/etc/rabbitmq/conf.d/")
    params = pika.URLParameters(EXPORTS["AMQP_URL"])
    assert (params.host, params.port) == published("rabbitmq", 5672)
    assert params.credentials.username == "guest" and settings["loopback_users.guest"] == "false"


def test_minio_has_the_local_runners_keys_and_the_functions_bucket():
    minio = SERVICES["minio"]
    assert minio["environment"] == {"MINIO_ROOT_USER": S3_DEV_KEY, "MINIO_ROOT_PASSWORD": S3_DEV_KEY}
    endpoint = urlsplit(EXPORTS["S3_ENDPOINT_URL"])
    assert (endpoint.hostname, endpoint.port) == published("minio", 9000)
    init = SERVICES["minio-init"]
    bucket = storage_from_config(Config({"SECRET_S3_ACCESS_KEY": "k", "SECRET_S3_SECRET_KEY": "k"})).bucket
    assert init["command"] == ["mb", "--ignore-existing", f"local/{bucket}"]
    assert init["environment"]["MC_HOST_local"] == f"http://{S3_DEV_KEY}:{S3_DEV_KEY}@minio:9000"


def test_keycloak_imports_the_realm_at_the_documented_issuer():
    keycloak = SERVICES["keycloak"]
    assert keycloak["command"][0] in ("start-dev", "start") and "--import-realm" in keycloak["command"]
    [volume] = keycloak["volumes"]
    source, target, _ = volume.split(":")
    assert target == "/opt/keycloak/data/import"
    assert os.path.isfile(os.path.join(ROOT, source, f"{REALM['realm']}-realm.json"))
    issuer = EXPORTS["OIDC_ISSUER"]
    assert issuer == f"{keycloak['environment']['KC_HOSTNAME']}/realms/{REALM['realm']}"
    assert urlsplit(issuer).port == published("keycloak", 8080)[1]
    users_service = next(c for c in REALM["clients"] if c["clientId"] == "users-service")
    assert users_service["secret"] == USERS_SERVICE_SECRET  # what scripts/run passes the users functions


def test_services_publish_on_loopback_only_and_pin_their_images():
    for name, service in SERVICES.items():
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", service["image"]) and not service["image"].endswith(":latest"), name
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), (name, mapping)
