"""os-baremetal-nodes: the commands Nova never proxied to Ironic answer 400
naming the Ironic command, for any caller, up to 2.35."""
import unittest

from common import ApiTest, request

NODE = "058d27fa-241b-445a-a386-08c04f96db43"


class BaremetalNodes(ApiTest):
    CASES = (("POST", "/os-baremetal-nodes", {"node": {"cpus": 8}}, "node-create"),
             ("DELETE", f"/os-baremetal-nodes/{NODE}", None, "node-delete"),
             ("POST", f"/os-baremetal-nodes/{NODE}/action", {"add_interface": {"address": "aa:bb:cc:dd:ee:ff"}},
              "port-create"),
             ("POST", f"/os-baremetal-nodes/{NODE}/action", {"remove_interface": {"address": "aa:bb:cc:dd:ee:ff"}},
              "port-delete"))

    def test_commands_name_the_ironic_command(self):
        for method, path, body, cmd in self.CASES:
            for token in ("admin:admin", "bm-member:bm-proj"):
                with self.subTest(path=path, cmd=cmd, token=token):
                    r = request(method, "/v2.1" + path, body, token=token, version="2.35")
                    self.assertFault(r, 400, "badRequest",
                                     f"Command not supported. Please use Ironic command {cmd}"
                                     " to perform this action.")

    def test_gone_after_2_35(self):
        for method, path, body, _ in self.CASES:
            with self.subTest(path=path):
                self.assertFault(request(method, "/v2.1" + path, body, version="2.36"), 404,
                                 "itemNotFound")

    def test_unknown_action_is_400(self):
        r = request("POST", f"/v2.1/os-baremetal-nodes/{NODE}/action", {"reboot": None})
        self.assertFault(r, 400, "badRequest")


if __name__ == "__main__":
    unittest.main()
