# Stand-in for the get-pip.py that ansible-test downloads from a host this machine cannot reach
# (ansible/ansible#77304). ansible-test runs it inside a new virtualenv with get-pip's arguments
# (`pip==X --no-setuptools --no-wheel`): bootstrap the bundled pip, then let it install what was
# asked for from the package index, and drop what get-pip would not have installed.
import ensurepip
import os
import subprocess
import sys

environment = dict(os.environ)
ensurepip.bootstrap(upgrade=True)

flags = {"--no-setuptools", "--no-wheel"}
arguments = [argument for argument in sys.argv[1:] if argument not in flags]
pip = [sys.executable, "-m", "pip"]
# A fresh process with the original environment: ensurepip hides the machine's pip configuration.
status = subprocess.call(pip + ["install", "--upgrade", "--force-reinstall"] + arguments, env=environment)
if status == 0 and "--no-setuptools" in sys.argv:
    status = subprocess.call(pip + ["uninstall", "--yes", "--quiet", "setuptools"], env=environment)
sys.exit(status)
