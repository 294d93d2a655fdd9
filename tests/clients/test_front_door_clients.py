"""The real clients meet the front door: version discovery without a token,
admin and member tokens, Nova's errors as the clients show them."""
import unittest

from clients import need_clients, novaclient, openstack


@need_clients
class FrontDoorClients(unittest.TestCase):
    def test_openstack_lists_services_as_admin(self):
        _, services, _ = openstack("compute", "service", "list", "-f", "json", version="2.53")
        binaries = {s["Binary"] for s in services}
        self.assertTrue({"nova-conductor", "nova-scheduler", "nova-compute"} <= binaries, services)
        self.assertTrue(all(s["State"] == "up" for s in services), services)

    def test_openstack_member_is_refused_with_novas_message(self):
        rc, _, err = openstack("compute", "service", "list", admin=False, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("os_compute_api:os-services:list", err)

    def test_openstack_versions_discovery_latest(self):
        _, services, _ = openstack("compute", "service", "list", "-f", "json", version="2.latest")
        self.assertTrue(services)

    def test_novaclient_library(self):
        hosts = novaclient("print(json.dumps([s.binary for s in nova.services.list()]))", version="2.53")
        self.assertIn("nova-compute", hosts)


if __name__ == "__main__":
    unittest.main()
