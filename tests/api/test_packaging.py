"""The files for packagers: systemd units for every long-running process
(etc/systemd/, checked by systemd-analyze verify with the built binaries),
the nginx site (etc/nginx/cnova.conf, checked by `nginx -t` inside
Debian's own nginx.conf, with the template's locations) and logrotate
(etc/logrotate.d/cnova, parsed by logrotate -d). No stack needed."""
import os, re, shutil, socket, subprocess, tempfile, unittest

from common import REPO

BIN = os.environ.get("CNOVA_BIN", os.path.join(REPO, "build"))
if not os.path.isabs(BIN):
    BIN = os.path.join(REPO, BIN)
ETC = os.path.join(REPO, "etc")
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DAEMONS = ["cnova-api", "cnova-conductor", "cnova-scheduler", "cnova-compute"]


class Packaging(unittest.TestCase):
    def test_a_unit_for_every_daemon(self):
        units = os.listdir(os.path.join(ETC, "systemd"))
        for d in DAEMONS:
            self.assertIn(d + ".service", units)
        self.assertIn("cnova-compute@.service", units)
        self.assertIn("cnova.target", units)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_units_verify(self):
        with tempfile.TemporaryDirectory() as d:
            names = []
            for f in sorted(os.listdir(os.path.join(ETC, "systemd"))):
                with open(os.path.join(ETC, "systemd", f)) as src:
                    # the built binaries (one not built here: /bin/true, the rest is still checked)
                    text = re.sub(r"/usr/bin/(cnova-[a-z-]+)", lambda m: os.path.join(BIN, m[1])
                                  if os.access(os.path.join(BIN, m[1]), os.X_OK) else "/bin/true", src.read())
                with open(os.path.join(d, f), "w") as dst:
                    dst.write(text)
                names.append(os.path.join(d, f.replace("@.", "@host1.")) if "@." in f else os.path.join(d, f))
            if os.path.exists(os.path.join(d, "cnova-compute@.service")):
                shutil.copy(os.path.join(d, "cnova-compute@.service"), os.path.join(d, "cnova-compute@host1.service"))
            p = subprocess.run(["systemd-analyze", "verify", "--man=no", *names],
                               capture_output=True, text=True, cwd=d, timeout=120)
            ours = [l for l in (p.stdout + p.stderr).splitlines() if "cnova" in l]
            self.assertEqual(ours, [], p.stdout + p.stderr)

    def test_nginx_site_in_debian_nginx_conf(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists("/etc/nginx/nginx.conf"):
            self.skipTest("no /etc/nginx/nginx.conf")
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "logs"))
            with open("/etc/nginx/nginx.conf") as f:
                main = f.read()
            main = re.sub(r"(?m)^\s*include /etc/nginx/sites-enabled/\*;", f"include {d}/site.conf;", main)
            main = re.sub(r"(?m)^(user|pid|include /etc/nginx/modules-enabled).*$", "", main)
            main = re.sub(r"(?m)^error_log .*$", f"error_log {d}/logs/error.log;", main)
            main = main.replace("/var/log/nginx/", f"{d}/logs/")
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                f.write(f"pid {d}/nginx.pid;\n" + main)
            with open(os.path.join(ETC, "nginx", "cnova.conf")) as f:
                site = f.read()
            site = (site.replace("listen 8774;", f"listen 127.0.0.1:{free_port()};")
                    .replace("127.0.0.1:8775", f"127.0.0.1:{free_port()}")
                    .replace("/run/cnova/metadata.sock", f"{d}/md.sock").replace("/var/log/nginx/", f"{d}/logs/"))
            with open(os.path.join(d, "site.conf"), "w") as f:
                f.write(site)
            p = subprocess.run([nginx, "-t", "-p", d + "/", "-c", f"{d}/nginx.conf", "-e", f"{d}/logs/error.log"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_nginx_site_has_the_templates_locations(self):
        loc = lambda text: sorted(set(re.findall(r"(?m)^\s*location\s+([^{]+?)\s*\{", text)) - {"= /hello"})
        with open(os.path.join(REPO, "nginx", "nginx.conf.in")) as f:
            want = loc(f.read())
        with open(os.path.join(ETC, "nginx", "cnova.conf")) as f:
            self.assertEqual(loc(f.read()), want)

    @unittest.skipUnless(shutil.which("logrotate"), "logrotate not installed")
    def test_logrotate_parses(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(["logrotate", "-d", "-s", os.path.join(d, "state"),
                                os.path.join(ETC, "logrotate.d", "cnova")],
                               capture_output=True, text=True, timeout=60)
            errors = [l for l in (p.stdout + p.stderr).splitlines() if l.startswith("error")]
            self.assertEqual((p.returncode, errors), (0, []), p.stdout + p.stderr)
            self.assertIn("/var/log/cnova/*.log", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
