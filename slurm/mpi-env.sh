# mpi-env.sh - source me (". slurm/mpi-env.sh"), do not run me.
#
# Environment that makes Debian 12's Open MPI 4.1.4 `mpirun` work as root,
# with more ranks than cores (mpirun -n 8 on 2 cores), quietly, in a
# container/VM, for CI, tests and local runs. Every line was checked on the
# project's 2-core Debian 12 machine; docs/cli.md#environment-variables says
# why each is there.
# Only sets a variable that is unset, so a caller can override any of them.

# POSIX sh compatible, so job scripts with #!/bin/sh can source it too.
_mpi_env_default() { eval "[ -n \"\${$1+x}\" ]" || export "$1=$2"; }

# mpirun refuses to run as root unless both are set (same as --allow-run-as-root).
_mpi_env_default OMPI_ALLOW_RUN_AS_ROOT 1
_mpi_env_default OMPI_ALLOW_RUN_AS_ROOT_CONFIRM 1

# Allow more ranks than slots (cores): "-n 4" already fails on 2 cores without
# it ("There are not enough slots available"). Same as --oversubscribe.
_mpi_env_default OMPI_MCA_rmaps_base_oversubscribe 1

# Idle ranks call sched_yield() instead of pure busy-polling. Open MPI turns
# this on by itself only when *it* sees oversubscription; inside a SLURM job
# that declares more CPUs than the host has it does not, and 8 polling ranks on
# 2 cores then crawl: measured 26 ms per MPI_Allreduce instead of 21 us
# (52 s vs 0.04 s for 2000 of them). Always on here, so it never crawls.
_mpi_env_default OMPI_MCA_mpi_yield_when_idle 1

# Don't pin ranks to cores: two mpiruns at once (ctest -j2) would both pin
# their rank 0 to core 0 and share it while core 1 idles. Oversubscribed runs
# are unbound anyway.
_mpi_env_default OMPI_MCA_hwloc_base_binding_policy none

# Shared-memory transport without CMA (process_vm_readv), which Docker's
# default seccomp profile/ptrace rules block: otherwise large messages fail
# with "Read -1, expected N, errno = 1" from btl_vader. Costs a copy; harmless.
_mpi_env_default OMPI_MCA_btl_vader_single_copy_mechanism none

# One host only: use ob1 over shared memory (+ tcp on loopback for the
# multi-"node" local SLURM cluster); skip probing UCX/libfabric/openib/psm,
# which can print "no devices"/"OpenFabrics" warnings on hosts with RDMA
# hardware, and keep TCP off eth0/docker bridges.
_mpi_env_default OMPI_MCA_pml ob1
_mpi_env_default OMPI_MCA_btl self,vader,tcp
_mpi_env_default OMPI_MCA_btl_tcp_if_include lo
_mpi_env_default OMPI_MCA_oob_tcp_if_include lo

# hpcpipe reports its own errors once, from rank 0, and exits 1-4 on every
# rank; without this, mpirun adds a "Primary job terminated normally, but 1
# process returned a non-zero exit code" banner to every such exit.
_mpi_env_default OMPI_MCA_orte_execute_quiet 1

# PMIx: use the hash data store, not the shared-memory one, which in some
# containers prints "PMIX ERROR: ... gds_ds12_lock_pthread.c" at start-up.
_mpi_env_default PMIX_MCA_gds hash

# Session directories (and the PMIx unix sockets in them) under /tmp: a long
# $TMPDIR (e.g. inside a build tree) overflows the 108-byte socket path limit.
_mpi_env_default OMPI_MCA_orte_tmpdir_base /tmp

# Parallel HDF5 takes file locks; some file systems (NFS, overlay mounts of
# CI runners) refuse them ("unable to lock file, errno = 38/11").
_mpi_env_default HDF5_USE_FILE_LOCKING FALSE

unset -f _mpi_env_default
