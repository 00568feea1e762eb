"""The kernel a job notebook runs in, started with the environment it is given rather than this process's.

papermill (through nbclient) makes its kernel manager from ``kernel_manager_class`` and the traitlets ``config`` it
is handed; :func:`papermill_options` gives it this class and the environment, so the kernel learns its settings
(who started the run, the archived notebook) without this process's environment ever changing.
"""

from __future__ import annotations

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict
from traitlets.config import Config


class JobKernelManager(AsyncKernelManager):
    """Starts (and restarts) its kernel with ``kernel_env`` as the whole environment."""

    kernel_env = Dict(help="the kernel process's environment").tag(config=True)

    async def start_kernel(self, **kw):
        return await super().start_kernel(**{**kw, "env": dict(self.kernel_env)})


def papermill_options(env: dict[str, str]) -> dict:
    """``papermill.execute_notebook`` keyword arguments that start the kernel with ``env``."""
    return {"kernel_manager_class": JobKernelManager,
            "config": Config({JobKernelManager.__name__: {"kernel_env": env}})}
