"""The Helm chart, rendered by Helm's own engine (helm-python-sdk) and checked against the
Kubernetes schemas (kubernetes-validate) and the component registry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from crmkit.components import registry
from crmkit.metrics import JOB_INTERVAL, JOB_LAST_SUCCESS
from crmkit.natsauth import nats_users

CHART = Path(__file__).resolve().parents[1] / "keyuan"
RELEASE = "keyuan"
NAMESPACE = "crm"
# The chart's kubeVersion floor (Chart.yaml) and the newest version kubernetes-validate knows.
KUBE_VERSIONS = ("1.27", kubernetes_validate.utils.latest_version())
# prometheus-operator CRDs: kubernetes-validate has no schema for them.
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64

Docs = list[dict[str, Any]]


class Rendered:
    """One `helm template`: the objects, and NOTES.txt."""

    def __init__(self, manifests: dict[str, str]) -> None:
        self.notes = manifests.pop(f"{CHART.name}/templates/NOTES.txt", "")
        self.docs: Docs = [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if doc is not None]

    def of_kind(self, kind: str) -> Docs:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        [doc] = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        return doc

    def names(self, kind: str) -> set[str]:
        return {doc["metadata"]["name"] for doc in self.of_kind(kind)}

    def test_pods(self) -> Docs:
        return [
            pod for pod in self.of_kind("Pod") if pod["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
        ]


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def render(chart: helm.Chart, values: dict[str, Any] | None = None) -> Rendered:
    # Chart.render coalesces the values with values.yaml and checks them against
    # values.schema.json first, like `helm template` / `helm install`.
    return Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True))


def name_of(component: str) -> str:
    return f"{RELEASE}-{component}"


def assert_valid_kubernetes(rendered: Rendered) -> None:
    problems = []
    for doc in rendered.docs:
        if doc["kind"] in CRD_KINDS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1"
            assert doc["spec"]
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = ".".join(str(p) for p in exc.path)
                problems.append(
                    f"{doc['kind']}/{doc['metadata']['name']} (Kubernetes {version}) {where}: {exc.message}"
                )
    assert problems == []


# --- Variants, each rendered once --------------------------------------------------------------

# Every optional feature on, so that every template and branch is rendered and validated.
EVERYTHING_ON: dict[str, Any] = {
    "otlpEndpoint": "http://otel-collector.monitoring:4317",
    "bootstrapAdmin": {"existingSecret": "keyuan-bootstrap-admin"},
    "identity": {"privateKeyExistingSecret": "keyuan-identity-private"},
    "imagePullSecrets": [{"name": "regcred"}],
    "ingress": {"enabled": True, "className": "nginx", "tls": [{"secretName": "t", "hosts": ["keyuan.example.com"]}]},
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "prometheusRule": {"enabled": True},
    "networkPolicy": {
        "gateway": {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]},
        "egress": {
            "restrict": True,
            "postgres": {"cidrs": ["10.20.0.0/24"]},
            "nats": {"cidrs": ["10.30.0.10/32"]},
            "otlp": {"cidrs": ["10.40.0.0/24"]},
        },
    },
    "services": {
        "customer": {
            "image": {"digest": DIGEST_A},
            "nats": {"secretKey": "customer-seed"},
            "personalData": {"secretKey": "customer-keyring"},
        },
        "analytics": {"autoscaling": {"enabled": False}, "replicas": 3},
        "gateway": {"autoscaling": {"minReplicas": 3}, "probes": {"liveness": {"path": "/livez"}}},
    },
}


@pytest.fixture(scope="module")
def default(chart: helm.Chart) -> Rendered:
    return render(chart)


@pytest.fixture(scope="module")
def everything_on(chart: helm.Chart) -> Rendered:
    return render(chart, EVERYTHING_ON)


@pytest.fixture(scope="module")
def without_analytics(chart: helm.Chart) -> Rendered:
    # analytics deleted from values (null removes a key in Helm) and no longer called.
    return render(chart, {"services": {"analytics": None, "gateway": {"upstreams": ["customer"]}}})


# --- Rendering and validity --------------------------------------------------------------------


def test_default_values_render_valid_kubernetes_objects(default: Rendered) -> None:
    assert_valid_kubernetes(default)
    components = {name_of(c) for c in registry()}
    assert default.names("Deployment") == components
    assert default.names("Service") == components
    assert default.names("HorizontalPodAutoscaler") == components
    assert {f"{c}-migrate" for c in components} == default.names("Job")


def test_every_optional_feature_renders_valid_kubernetes_objects(everything_on: Rendered) -> None:
    assert_valid_kubernetes(everything_on)
    kinds = {doc["kind"] for doc in everything_on.docs}
    assert {"Ingress", "ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"} <= kinds


def test_helm_lint_finds_nothing_above_info() -> None:
    report = helm.lint(CHART, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_helm_show_readme_has_the_chart_readme(chart: helm.Chart) -> None:
    readme = {f["name"]: f["data"] for f in chart.files}["README.md"]
    assert "## Values" in readme
    assert "## helm test" in readme


@pytest.mark.parametrize(
    ("values", "misspelt"),
    [
        ({"services": {"gateway": {"replcias": 3}}}, "replcias"),
        ({"imagee": {"tag": "1"}}, "imagee"),
        ({"networkPolicy": {"egress": {"restirct": True}}}, "restirct"),
        ({"services": {"customer": {"probes": {"readiness": {"periodSecond": 5}}}}}, "periodSecond"),
        ({"personalData": {"existingSecrets": "keys"}}, "existingSecrets"),
        ({"services": {"customer": {"personalData": {"enable": True}}}}, "enable"),
    ],
)
def test_a_misspelt_value_is_refused(chart: helm.Chart, values: dict[str, Any], misspelt: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=misspelt):
        render(chart, values)


def test_an_http_path_on_a_grpc_probe_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(chart, {"services": {"customer": {"probes": {"readiness": {"path": "/readyz"}}}}})


# --- Upstreams ---------------------------------------------------------------------------------


def test_disabling_a_service_the_gateway_calls_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError) as refused:
        render(chart, {"services": {"customer": {"enabled": False}}})
    message = str(refused.value)
    assert 'services.customer.enabled is false, but services.gateway.upstreams lists "customer"' in message
    assert 'remove "customer" from services.gateway.upstreams' in message


def test_deleting_a_service_the_gateway_calls_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"there is no services\.customer"):
        render(chart, {"services": {"customer": None}})


def test_a_service_nobody_calls_can_be_disabled(chart: helm.Chart) -> None:
    rendered = render(chart, {"services": {"analytics": {"enabled": False}, "gateway": {"upstreams": ["customer"]}}})
    assert name_of("analytics") not in rendered.names("Deployment")
    gateway_env = rendered.one("ConfigMap", name_of("gateway"))["data"]
    assert gateway_env["CRM_GATEWAY_CUSTOMER_ADDR"] == f"{name_of('customer')}:50051"
    assert "CRM_GATEWAY_ANALYTICS_ADDR" not in gateway_env


def test_a_service_deleted_from_values_leaves_no_trace(without_analytics: Rendered) -> None:
    assert_valid_kubernetes(without_analytics)
    for doc in without_analytics.docs:
        assert "analytics" not in doc["metadata"]["name"], doc["metadata"]["name"]
    assert "analytics" not in without_analytics.notes
    assert f"Deployment/{name_of('customer')}" in without_analytics.notes


def test_deleting_the_gateway_renders_the_rest(chart: helm.Chart) -> None:
    rendered = render(chart, {"services": {"gateway": None}})
    assert rendered.names("Deployment") == {name_of("customer"), name_of("analytics"), name_of("order")}
    assert "gateway" not in rendered.notes
    # Nobody calls the gRPC services any more but the helm test pods.
    policy = rendered.one("NetworkPolicy", f"{name_of('customer')}-ingress")
    [grpc_rule] = [rule for rule in policy["spec"]["ingress"] if rule["ports"][0]["port"] == "grpc"]
    assert grpc_rule["from"][0]["podSelector"]["matchExpressions"][0]["values"] == ["helm-test"]


def test_grpc_services_accept_calls_only_from_their_callers(default: Rendered) -> None:
    for name, component in registry().items():
        if component.kind != "grpc":
            continue
        callers = sorted(caller for caller, c in registry().items() if name in c.calls)
        policy = default.one("NetworkPolicy", f"{name_of(name)}-ingress")
        [grpc_rule] = [rule for rule in policy["spec"]["ingress"] if rule["ports"][0]["port"] == "grpc"]
        admitted = grpc_rule["from"][0]["podSelector"]["matchExpressions"][0]["values"]
        assert admitted == [*callers, "helm-test"]


def test_the_gateway_listens_on_its_service_port(chart: helm.Chart) -> None:
    rendered = render(chart, {"services": {"gateway": {"ports": {"http": 8080}}}})
    env = rendered.one("ConfigMap", name_of("gateway"))["data"]
    assert (env["CRM_GATEWAY_HTTP_HOST"], env["CRM_GATEWAY_HTTP_PORT"]) == ("0.0.0.0", "8080")
    ports = {port["name"]: port for port in rendered.one("Service", name_of("gateway"))["spec"]["ports"]}
    assert (ports["http"]["port"], ports["http"]["targetPort"]) == (8080, "http")
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in container(rendered, "gateway")["ports"]


def test_only_the_gateway_gets_the_key_it_seals_secrets_with(default: Rendered) -> None:
    env = default.one("ConfigMap", name_of("gateway"))["data"]
    assert env["CRM_GATEWAY_SECRET_KEY_FILE"] == "/etc/keyuan/identity/gateway_secrets.key"
    for name, component in registry().items():
        volumes = default.one("Deployment", name_of(name))["spec"]["template"]["spec"]["volumes"]
        [identity] = [v for v in volumes if v["name"] == "identity"]
        paths = {item["path"] for source in identity["projected"]["sources"] for item in source["secret"]["items"]}
        assert ("gateway_secrets.key" in paths) == (component.kind == "http"), name


def test_the_gateway_serves_metrics_on_its_own_port_and_no_api_docs(default: Rendered) -> None:
    env = default.one("ConfigMap", name_of("gateway"))["data"]
    assert env["CRM_GATEWAY_METRICS_PORT"] == "9464"
    assert env["CRM_GATEWAY_API_DOCS"] == "false"
    names = {port["name"] for port in default.one("Service", name_of("gateway"))["spec"]["ports"]}
    assert names == {"http", "metrics"}


# --- Probes and replicas -----------------------------------------------------------------------


def container(rendered: Rendered, component: str) -> dict[str, Any]:
    pod_spec = rendered.one("Deployment", name_of(component))["spec"]["template"]["spec"]
    containers: list[dict[str, Any]] = pod_spec["containers"]
    [main] = containers
    return main


def test_grpc_readiness_is_the_health_check_and_liveness_only_the_process(default: Rendered) -> None:
    for name, component in registry().items():
        if component.kind != "grpc":
            continue
        main = container(default, name)
        # grpc.health.v1 with service "" (no `service` field): the service's own readiness.
        assert main["readinessProbe"]["grpc"] == {"port": 50051}
        # A database or NATS outage must not restart the pods.
        assert main["livenessProbe"]["tcpSocket"] == {"port": "grpc"}
        assert main["startupProbe"]["tcpSocket"] == {"port": "grpc"}


def test_grpc_liveness_can_use_a_named_health_service(chart: helm.Chart) -> None:
    rendered = render(chart, {"services": {"customer": {"probes": {"liveness": {"grpcService": "liveness"}}}}})
    main = container(rendered, "customer")
    assert main["livenessProbe"]["grpc"] == {"port": 50051, "service": "liveness"}
    assert main["startupProbe"]["grpc"] == {"port": 50051, "service": "liveness"}
    assert main["readinessProbe"]["grpc"] == {"port": 50051}


def test_gateway_readiness_is_readyz_and_liveness_healthz(default: Rendered) -> None:
    main = container(default, "gateway")
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_replicas_is_the_autoscaling_minimum(chart: helm.Chart, default: Rendered) -> None:
    for name in registry():
        deployment = default.one("Deployment", name_of(name))
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        assert default.one("HorizontalPodAutoscaler", name_of(name))["spec"]["minReplicas"] == 2
    rendered = render(chart, {"services": {"customer": {"replicas": 4}}})
    assert rendered.one("HorizontalPodAutoscaler", name_of("customer"))["spec"]["minReplicas"] == 4
    assert "minimum = services.customer.replicas" in rendered.notes


def test_explicit_min_replicas_and_disabled_autoscaling(everything_on: Rendered) -> None:
    assert everything_on.one("HorizontalPodAutoscaler", name_of("gateway"))["spec"]["minReplicas"] == 3
    assert name_of("analytics") not in everything_on.names("HorizontalPodAutoscaler")
    assert everything_on.one("Deployment", name_of("analytics"))["spec"]["replicas"] == 3


def test_a_minimum_above_the_maximum_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"autoscaling minimum \(7, from replicas\)"):
        render(chart, {"services": {"customer": {"replicas": 7}}})


# --- Images ------------------------------------------------------------------------------------


def images(rendered: Rendered, component: str) -> set[str]:
    found = set()
    for doc in rendered.docs:
        if doc["kind"] in ("Deployment", "Job"):
            spec = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "Pod":
            spec = doc["spec"]
        else:
            continue
        found |= {c["image"] for c in spec["containers"] if f"/{component}" in c["image"]}
    return found


def test_a_service_image_can_be_pinned_by_digest(everything_on: Rendered) -> None:
    # Deployment, migration Job and test pod all run the pinned image.
    assert images(everything_on, "customer") == {f"registry.example.com/keyuan/customer@{DIGEST_A}"}
    assert images(everything_on, "gateway") == {"registry.example.com/keyuan/gateway:0.1.0"}


def test_the_global_digest_pins_a_single_image(chart: helm.Chart) -> None:
    one_image = {"repository": "registry.example.com/keyuan/all"}
    rendered = render(
        chart,
        {
            "image": {"digest": DIGEST_B},
            "services": {name: {"image": one_image} for name in registry()},
        },
    )
    assert images(rendered, "all") == {f"registry.example.com/keyuan/all@{DIGEST_B}"}


def test_the_global_digest_is_refused_for_different_images(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"image.digest pins one image, but it would apply to 4"):
        render(chart, {"image": {"digest": DIGEST_B}})


def test_a_malformed_digest_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmValuesError, match="digest"):
        render(chart, {"services": {"customer": {"image": {"digest": "sha256:abc"}}}})


# --- Egress ------------------------------------------------------------------------------------


def egress_rules(rendered: Rendered) -> Docs:
    rules: Docs = rendered.one("NetworkPolicy", f"{RELEASE}-egress")["spec"]["egress"]
    return rules


def test_restricted_egress_lets_traces_reach_the_collector(everything_on: Rendered) -> None:
    [otlp] = [rule for rule in egress_rules(everything_on) if rule["ports"] == [{"port": 4317, "protocol": "TCP"}]]
    assert otlp["to"] == [{"ipBlock": {"cidr": "10.40.0.0/24"}}]


def test_restricted_egress_without_tracing_has_no_collector_rule(chart: helm.Chart) -> None:
    rendered = render(chart, {"networkPolicy": {"egress": {"restrict": True}}})
    ports = {port["port"] for rule in egress_rules(rendered) for port in rule["ports"]}
    assert 4317 not in ports


def test_a_collector_port_other_than_the_endpoints_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match="otlpEndpoint uses port 4318"):
        render(chart, {"otlpEndpoint": "http://otel:4318", "networkPolicy": {"egress": {"restrict": True}}})


# --- helm test ---------------------------------------------------------------------------------


def test_each_enabled_component_has_a_helm_test_pod(default: Rendered, without_analytics: Rendered) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for rendered, components in ((default, set(registry())), (without_analytics, set(registry()) - {"analytics"})):
        pods = {pod["metadata"]["name"]: pod for pod in rendered.test_pods()}
        assert set(pods) == {f"{name_of(c)}-test" for c in components}
        for name in components:
            pod = pods[f"{name_of(name)}-test"]
            [check] = pod["spec"]["containers"]
            assert check["command"][:2] == ["python", "-c"]
            assert check["image"] == container(default, name)["image"]
            assert check["securityContext"] == values["securityContext"]
            assert pod["spec"]["securityContext"] == values["podSecurityContext"]
            assert pod["spec"]["automountServiceAccountToken"] is False
            assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "helm-test"
            target = check["command"][3]
            if registry()[name].kind == "grpc":
                assert "grpc_health" in check["command"][2]
                assert target == f"{name_of(name)}:50051"
            else:
                assert "urllib" in check["command"][2]
                assert target == f"http://{name_of(name)}:8000/healthz"


def test_network_policies_let_the_helm_test_pods_through(everything_on: Rendered) -> None:
    gateway = everything_on.one("NetworkPolicy", f"{name_of('gateway')}-ingress")
    [http_rule, *_] = gateway["spec"]["ingress"]
    selectors = [peer.get("podSelector", {}).get("matchLabels", {}) for peer in http_rule["from"]]
    assert any(labels.get("app.kubernetes.io/component") == "helm-test" for labels in selectors)
    test_egress = everything_on.one("NetworkPolicy", f"{RELEASE}-helm-test-egress")
    assert test_egress["spec"]["egress"][0]["ports"] == [{"port": 8000, "protocol": "TCP"}]


# --- NATS users --------------------------------------------------------------------------------


def pod_spec(rendered: Rendered, component: str) -> dict[str, Any]:
    spec: dict[str, Any] = rendered.one("Deployment", name_of(component))["spec"]["template"]["spec"]
    return spec


def nats_credentials(rendered: Rendered, component: str) -> tuple[dict[str, str], Any, Any]:
    """The NATS credential env, volume and mount of one Deployment (None when absent)."""
    main = container(rendered, component)
    env = {e["name"]: e["value"] for e in main["env"] if e["name"].startswith("CRM_NATS_")}
    [volume] = [v for v in pod_spec(rendered, component)["volumes"] if v["name"] == "nats-credentials"] or [None]
    [mount] = [m for m in main["volumeMounts"] if m["name"] == "nats-credentials"] or [None]
    return env, volume, mount


def test_each_component_mounts_only_its_own_nats_seed(default: Rendered) -> None:
    users = {entry.name for entry in nats_users()}
    assert users == set(registry())
    for name in registry():
        env, volume, mount = nats_credentials(default, name)
        if name not in users:
            assert (env, volume, mount) == ({}, None, None), name
            continue
        assert env == {"CRM_NATS_NKEY_SEED_FILE": f"/etc/keyuan/nats/{name}.nk"}
        assert volume["secret"] == {
            "secretName": "keyuan-nats",
            "defaultMode": 0o440,
            "items": [{"key": f"{name}.nk", "path": f"{name}.nk"}],
        }
        assert mount == {"name": "nats-credentials", "mountPath": "/etc/keyuan/nats", "readOnly": True}
    # Migrations use no NATS.
    for job in default.of_kind("Job"):
        [main] = job["spec"]["template"]["spec"]["containers"]
        assert not any(e["name"].endswith(("NKEY_SEED_FILE", "CREDS_FILE")) for e in main["env"])


def test_a_service_can_name_its_key_in_the_nats_secret(everything_on: Rendered) -> None:
    env, volume, _ = nats_credentials(everything_on, "customer")
    assert env == {"CRM_NATS_NKEY_SEED_FILE": "/etc/keyuan/nats/customer-seed"}
    assert volume["secret"]["items"] == [{"key": "customer-seed", "path": "customer-seed"}]


def test_jwt_credentials_files_instead_of_nkey_seeds(chart: helm.Chart) -> None:
    rendered = render(chart, {"nats": {"auth": {"existingSecret": "keyuan-nats-jwt", "type": "creds"}}})
    assert_valid_kubernetes(rendered)
    env, volume, _ = nats_credentials(rendered, "analytics")
    assert env == {"CRM_NATS_CREDS_FILE": "/etc/keyuan/nats/analytics.creds"}
    assert volume["secret"]["secretName"] == "keyuan-nats-jwt"
    assert volume["secret"]["items"] == [{"key": "analytics.creds", "path": "analytics.creds"}]


def test_without_a_nats_secret_services_connect_without_credentials(chart: helm.Chart) -> None:
    rendered = render(chart, {"nats": {"auth": {"existingSecret": ""}}})
    for name in registry():
        assert nats_credentials(rendered, name) == ({}, None, None)


def test_an_unknown_kind_of_nats_credential_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmValuesError, match="type"):
        render(chart, {"nats": {"auth": {"type": "password"}}})


# --- Personal-data keyrings --------------------------------------------------------------------

PERSONAL_DATA_MOUNT = "/etc/keyuan/personal-data"


def personal_data(rendered: Rendered, kind: str, component: str) -> tuple[dict[str, str], Any, Any]:
    """The personal-data env, volume and mount of a component's Deployment or migration Job (None
    when absent). The env comes from the ConfigMap (Deployment) or inline (Job)."""
    name = name_of(component) if kind == "Deployment" else f"{name_of(component)}-migrate"
    spec = rendered.one(kind, name)["spec"]["template"]["spec"]
    [main] = spec["containers"]
    if kind == "Deployment":
        settings = rendered.one("ConfigMap", name_of(component))["data"]
    else:
        settings = {e["name"]: e["value"] for e in main["env"] if "value" in e}
    env = {k: v for k, v in settings.items() if k.endswith("PERSONAL_DATA_KEYS_FILE")}
    [volume] = [v for v in spec["volumes"] if v["name"] == "personal-data"] or [None]
    [mount] = [m for m in main["volumeMounts"] if m["name"] == "personal-data"] or [None]
    return env, volume, mount


def test_the_customer_pods_and_migrations_mount_only_its_keyring(default: Rendered) -> None:
    for kind in ("Deployment", "Job"):
        env, volume, mount = personal_data(default, kind, "customer")
        assert volume == {
            "name": "personal-data",
            "secret": {
                "secretName": "keyuan-personal-data",
                "defaultMode": 0o440,
                "items": [{"key": "customer.keys", "path": "customer.keys"}],
            },
        }, kind
        assert mount == {"name": "personal-data", "mountPath": PERSONAL_DATA_MOUNT, "readOnly": True}, kind
        mounted = f"{mount['mountPath']}/{volume['secret']['items'][0]['path']}"
        assert env == {"CRM_CUSTOMER_PERSONAL_DATA_KEYS_FILE": mounted}, kind
        assert mounted == f"{PERSONAL_DATA_MOUNT}/customer.keys"


def test_services_without_personal_data_mount_no_keyring(default: Rendered) -> None:
    for component in ("analytics", "gateway"):
        for kind in ("Deployment", "Job"):
            assert personal_data(default, kind, component) == ({}, None, None), (component, kind)
            spec = default.one(kind, name_of(component) if kind == "Deployment" else f"{name_of(component)}-migrate")
            assert "keyuan-personal-data" not in yaml.safe_dump(spec), (component, kind)


def test_a_service_can_name_its_key_in_the_personal_data_secret(everything_on: Rendered) -> None:
    for kind in ("Deployment", "Job"):
        env, volume, _ = personal_data(everything_on, kind, "customer")
        assert env == {"CRM_CUSTOMER_PERSONAL_DATA_KEYS_FILE": f"{PERSONAL_DATA_MOUNT}/customer-keyring"}
        assert volume["secret"]["items"] == [{"key": "customer-keyring", "path": "customer-keyring"}]


def test_personal_data_without_its_secret_is_refused(chart: helm.Chart) -> None:
    # The chart never generates a keyring: a fresh one would orphan the sealed data.
    with pytest.raises(helm.HelmRenderError) as refused:
        render(chart, {"personalData": {"existingSecret": ""}})
    message = str(refused.value)
    assert "personalData.existingSecret is required" in message
    assert "services.customer.personalData.enabled is true" in message
    # Without a service that keeps personal data, no Secret is needed.
    rendered = render(
        chart, {"personalData": {"existingSecret": ""}, "services": {"customer": {"personalData": {"enabled": False}}}}
    )
    assert personal_data(rendered, "Deployment", "customer") == ({}, None, None)


def test_personal_data_follows_the_component_registry(default: Rendered) -> None:
    services = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    keeping = {name for name, c in registry().items() if c.personal_data}
    assert keeping, "the registry marks no component as keeping personal data"
    assert {name for name, svc in services.items() if svc.get("personalData", {}).get("enabled")} == keeping
    rendered = {name for name in registry() if personal_data(default, "Deployment", name)[1] is not None}
    assert rendered == keeping
    for name in keeping:
        env_var = f"{registry()[name].env_prefix}PERSONAL_DATA_KEYS_FILE"
        assert personal_data(default, "Job", name)[0] == {env_var: f"{PERSONAL_DATA_MOUNT}/{name}.keys"}


# --- Registry and monitoring -------------------------------------------------------------------


def test_values_follow_the_component_registry() -> None:
    services = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    components = registry()
    assert set(services) == set(components)
    for name, component in components.items():
        assert services[name]["type"] == component.kind, name
        assert services[name]["upstreams"] == list(component.calls), name


def test_dead_letter_alert_counts_new_dead_letters(everything_on: Rendered) -> None:
    [rule] = [
        rule
        for group in everything_on.of_kind("PrometheusRule")[0]["spec"]["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "KeyuanDeadLettersIncreasing"
    ]
    assert f'increase(crm_consumer_dead_letters_total{{namespace="{NAMESPACE}"}}[15m])' in rule["expr"]
    assert rule["expr"].strip().endswith("> 0")


def test_a_periodic_job_alerts_when_its_last_success_is_older_than_two_intervals(everything_on: Rendered) -> None:
    [rule] = [
        rule
        for group in everything_on.of_kind("PrometheusRule")[0]["spec"]["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "KeyuanPeriodicJobNotSucceeding"
    ]
    by_job = "max by (namespace, component, job_name)"
    selector = f'{{namespace="{NAMESPACE}"}}'
    expr = " ".join(rule["expr"].split())
    assert expr.startswith(f"( time() - {by_job} ( crm_job_last_success_timestamp_seconds{selector} ) )")
    assert expr.endswith(f"> 2 * {by_job} (crm_job_interval_seconds{selector})")
    assert rule["for"] == "10m"
    # The names and labels the alert reads are the ones the kit exports (a wrong label raises).
    assert JOB_LAST_SUCCESS.describe()[0].name == "crm_job_last_success_timestamp_seconds"
    assert JOB_INTERVAL.describe()[0].name == "crm_job_interval_seconds"
    JOB_LAST_SUCCESS.labels(service="chart-test", job_name="pool-return")
    JOB_INTERVAL.labels(service="chart-test", job_name="pool-return")


# --- The test clock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"config": {"CRM_CUSTOMER_TEST_CLOCK_CONTROL": "true"}}, "config"),
        ({"services": {"customer": {"config": {"CRM_CUSTOMER_TEST_CLOCK_CONTROL": True}}}}, "services.customer.config"),
        ({"extraEnv": [{"name": "CRM_ANALYTICS_TEST_CLOCK_CONTROL", "value": "1"}]}, "extraEnv"),
        (
            {"services": {"analytics": {"extraEnv": [{"name": "crm_analytics_test_clock_control", "value": "yes"}]}}},
            "services.analytics.extraEnv",
        ),
    ],
    ids=["shared-config", "service-config", "shared-extra-env", "service-extra-env-lower-case"],
)
def test_the_test_clock_cannot_be_switched_on_through_the_chart(
    chart: helm.Chart, values: dict[str, Any], where: str
) -> None:
    with pytest.raises(helm.HelmRenderError, match=rf"{re.escape(where)} sets \S+: the test clock"):
        render(chart, values)


def test_every_grpc_service_runs_with_its_test_clock_pinned_off(everything_on: Rendered) -> None:
    for name, component in registry().items():
        env = container(everything_on, name)["env"]
        pinned = [entry for entry in env if entry["name"] == f"{component.env_prefix}TEST_CLOCK_CONTROL"]
        if component.kind == "grpc":
            # Last, and `env` wins over `envFrom`: an extraEnvFrom ConfigMap cannot turn it on.
            assert pinned == [{"name": f"{component.env_prefix}TEST_CLOCK_CONTROL", "value": "false"}], name
            assert env[-1] == pinned[0], name
        else:
            assert pinned == [], name


# --- Object storage (attachments) ----------------------------------------------------------------


def storage_env(rendered: Rendered, component: str, kind: str = "Deployment") -> tuple[dict[str, str], dict[str, Any]]:
    """(plain CRM_STORAGE_* settings, secret-backed CRM_STORAGE_* env) of a component."""
    name = name_of(component) if kind == "Deployment" else f"{name_of(component)}-migrate"
    [main] = rendered.one(kind, name)["spec"]["template"]["spec"]["containers"]
    if kind == "Deployment":
        plain = rendered.one("ConfigMap", name_of(component))["data"]
    else:
        plain = {e["name"]: e["value"] for e in main["env"] if "value" in e}
    secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in main["env"] if "valueFrom" in e}
    return (
        {k: v for k, v in plain.items() if k.startswith("CRM_STORAGE_")},
        {k: v for k, v in secret.items() if k.startswith("CRM_STORAGE_")},
    )


def test_the_customer_service_and_the_gateway_share_one_s3_store_with_keys_from_a_secret(default: Rendered) -> None:
    from crmkit.storage import StorageSettings

    for component in ("customer", "gateway"):
        plain, secret = storage_env(default, component)
        assert plain == {
            "CRM_STORAGE_BACKEND": "s3",
            "CRM_STORAGE_S3_BUCKET": "keyuan-attachments",
            "CRM_STORAGE_S3_ENDPOINT": "",
            "CRM_STORAGE_S3_REGION": "",
            "CRM_STORAGE_S3_PATH_STYLE": "false",
            "CRM_STORAGE_S3_PREFIX": "",
        }, component
        assert secret == {
            "CRM_STORAGE_S3_ACCESS_KEY_ID": {"name": "keyuan-storage", "key": "access-key-id"},
            "CRM_STORAGE_S3_SECRET_ACCESS_KEY": {"name": "keyuan-storage", "key": "secret-access-key"},
        }, component
        # Every variable the chart sets is a setting the kit reads.
        fields = {f"CRM_STORAGE_{name.upper()}" for name in StorageSettings.model_fields}
        assert set(plain) | set(secret) <= fields
        # Migrations touch no objects: no storage keys in their Jobs.
        assert storage_env(default, component, "Job")[1] == {}
    assert storage_env(default, "analytics") == ({}, {})


def test_an_oss_or_minio_store_is_set_through_values(chart: helm.Chart) -> None:
    rendered = render(
        chart,
        {
            "storage": {
                "s3": {
                    "endpoint": "http://minio.minio.svc:9000",
                    "bucket": "crm-files",
                    "region": "cn-hangzhou",
                    "pathStyle": True,
                    "prefix": "prod",
                    "existingSecret": "",
                }
            }
        },
    )
    plain, secret = storage_env(rendered, "gateway")
    assert plain["CRM_STORAGE_S3_ENDPOINT"] == "http://minio.minio.svc:9000"
    assert (plain["CRM_STORAGE_S3_BUCKET"], plain["CRM_STORAGE_S3_PATH_STYLE"]) == ("crm-files", "true")
    assert (plain["CRM_STORAGE_S3_REGION"], plain["CRM_STORAGE_S3_PREFIX"]) == ("cn-hangzhou", "prod")
    # No Secret: the client takes credentials from the environment or the pod's role.
    assert secret == {}


def test_storage_without_a_bucket_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError) as refused:
        render(chart, {"storage": {"s3": {"bucket": ""}}})
    assert "storage.s3.bucket is required" in str(refused.value)
    # The endpoint is a URL (http:// only when the operator writes it).
    with pytest.raises(helm.HelmValuesError):
        render(chart, {"storage": {"s3": {"endpoint": "minio:9000"}}})


def test_restricted_egress_reaches_the_object_store(chart: helm.Chart, everything_on: Rendered) -> None:
    assert {"ports": [{"port": 443, "protocol": "TCP"}]} in egress_rules(everything_on)
    narrowed = render(
        chart,
        {
            "networkPolicy": {"egress": {"restrict": True, "storage": {"cidrs": ["10.50.0.0/24"], "port": 9000}}},
        },
    )
    assert {
        "ports": [{"port": 9000, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "10.50.0.0/24"}}],
    } in egress_rules(narrowed)
