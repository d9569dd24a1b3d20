"""The collection where AWX and EDA controller run it: in an execution environment (EE) and a decision
environment (DE), built with ansible-builder and run with podman, the way AWX runs jobs and inventory syncs.

``python -m tests.containers check|build`` (from the repository root); the tests beside this file use the
images that ``build`` leaves in the user's podman storage.
"""
