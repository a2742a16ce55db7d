"""Probes and operator endpoints on any Host; platform insides only to the platform's callers."""

from __future__ import annotations

from tests.deploy.test_manifests import probe_paths
from tests.gateway.fakes import ContentState, rig

# What the kubelet sends for an httpGet probe: the pod's IP and port as Host, from the node.
KUBELET = {"User-Agent": "kube-probe/1.30", "Accept": "*/*", "Connection": "close"}
NODE = "10.0.0.1"


def one_site() -> ContentState:
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    return state


async def test_kubelet_probes_answer_on_the_pod_ip_and_service_names(tmp_path, issuer) -> None:
    paths = probe_paths()
    assert {"/healthz", "/readyz"} <= paths
    async with rig(tmp_path, issuer, one_site()) as r:
        for host in ("10.1.2.3:8000", "[fd00::17]:8000", "jiyue-gateway", "gateway.jiyue.svc.cluster.local"):
            async with r.client(address=NODE, host=host) as kubelet:
                for path in sorted(paths):
                    resp = await kubelet.get(path, headers=KUBELET)
                    assert resp.status_code == 200, (host, path, resp.status_code, resp.text)
        # an unknown Host still gets 404 for everything that is not an operator endpoint
        async with r.client(host="10.1.2.3:8000") as c:
            assert (await c.get("/api/content/v1/site")).status_code == 404


async def test_metrics_and_readiness_details_only_for_the_platform(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site()) as r:
        async with r.client(address="203.0.113.8", host="jtj.example.gov.cn") as public:
            ready = await public.get("/readyz")
            assert ready.status_code == 200 and ready.json() == {"status": "ready"}
            refused = await public.get("/metrics")
            assert refused.status_code == 404
            assert refused.headers["content-type"].startswith("application/problem+json")
        async with r.client(address="203.0.113.8", host="10.1.2.3:8000") as spoofed_host:
            # a public caller naming an internal address as Host learns nothing more
            assert (await spoofed_host.get("/metrics")).status_code == 404
            assert set((await spoofed_host.get("/readyz")).json()) == {"status"}
        async with r.client(address=NODE, host="10.1.2.3:8000") as scraper:
            scraped = (await scraper.get("/metrics")).text
            assert "jiyue_gateway_requests_total" in scraped
            # the in-process services' own gauges are scraped here too, each family once
            for family in ("jiyue_feed_dead_letters", "jiyue_feed_rebuilds_total", "jiyue_feed_pruned_total"):
                assert f"# TYPE {family} " in scraped, family
            types = [line.split()[2] for line in scraped.splitlines() if line.startswith("# TYPE ")]
            assert len(types) == len(set(types)), sorted(t for t in types if types.count(t) > 1)
            assert "services" in (await scraper.get("/readyz")).json()
        async with r.client(address="203.0.113.8", host="localhost") as platform_host:
            assert (await platform_host.get("/metrics")).status_code == 200
            assert "services" in (await platform_host.get("/readyz")).json()


async def test_hsts_when_the_public_url_is_https_behind_a_plain_http_ingress(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site(), public_url="https://www.sfs.gov.cn") as r, r.client() as c:
        resp = await c.get("/healthz")
        assert resp.headers["strict-transport-security"].startswith("max-age=")
    async with rig(tmp_path, issuer, one_site(), public_url="http://127.0.0.1:8000") as r, r.client() as c:
        assert "strict-transport-security" not in (await c.get("/healthz")).headers


async def test_clients_behind_the_trusted_ingress_are_told_apart(tmp_path, issuer) -> None:
    overrides = {
        "gateway_trusted_proxies": ["10.0.0.0/8"],
        "gateway_rate_signin_burst": 1,
        "gateway_rate_signin_per_minute": 1,
    }
    async with rig(tmp_path, issuer, one_site(), **overrides) as r, r.client(address="10.4.0.9") as ingress:
        form = {"grant_type": "password", "username": "u", "password": "x"}

        async def sign_in(client: str, chain: str = "") -> int:
            xff = f"{chain}{client}" if chain else client
            resp = await ingress.post("/api/identity/v1/token", data=form, headers={"X-Forwarded-For": xff})
            return resp.status_code

        assert await sign_in("198.51.100.1") == 400  # wrong password, but admitted
        assert await sign_in("198.51.100.1") == 429  # that citizen's bucket is spent
        assert await sign_in("198.51.100.2") == 400  # the next citizen is not
        # a load balancer in front of the ingress appends its own (trusted) hop: the citizens
        # behind it are still told apart, and a client's own claim before its real address
        # does not pick the bucket
        assert await sign_in("10.9.9.9", chain="198.51.100.3, ") == 400
        assert await sign_in("10.9.9.9", chain="198.51.100.4, ") == 400
        assert await sign_in("10.9.9.9", chain="6.6.6.6, 198.51.100.3, ") == 429
