"""keep_freed_memory: freed arrays are reused instead of being faulted in from the system again."""

from __future__ import annotations

import platform
import resource

import numpy as np

from nnscratch.common.memory import keep_freed_memory


def page_faults_of_a_fresh_array(megabytes: int) -> int:
    """Minor page faults while NumPy allocates, writes and frees an array of this size."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    array = np.ones(megabytes * 2**20 // 8)
    del array
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_keep_freed_memory_lets_numpy_reuse_a_freed_array_without_page_faults():
    applied = keep_freed_memory()
    if platform.libc_ver()[0] != "glibc":
        assert applied is False  # only glibc has this setting; elsewhere it does nothing
        return
    assert applied and keep_freed_memory()  # and calling it again is harmless
    # 48 MiB is above the largest block glibc would keep on its own (32 MiB) and below the
    # setting's 64: without it, every such array comes from the system as new pages, 12,288
    # faults of 4 KiB (about 400 on the development machine, where NumPy asks for 2 MiB
    # pages); with it, none
    page_faults_of_a_fresh_array(48)  # the heap grows once
    assert page_faults_of_a_fresh_array(48) < 50
