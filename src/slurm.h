/*
 * slurm.h - `hpcpipe slurm render|submit|status` (docs/slurm.md), and what
 * a run does by itself inside a SLURM job: MPI defaults that must be in
 * place before MPI_Init, and the job facts its report records.
 */
#ifndef HP_SLURM_H
#define HP_SLURM_H

/* `hpcpipe slurm ...` (argv[1] is "slurm"); no MPI. Returns the exit code. */
int hp__slurm_main(int argc, char **argv);

/* Before MPI_Init, inside a SLURM job: when SLURM gives the job more CPUs
 * on this node than the machine has cores, idle ranks must yield (Open MPI does not
 * see the oversubscription and would busy-poll); sets
 * OMPI_MCA_mpi_yield_when_idle=1 unless the user set it. Returns 1 when
 * it did. */
int hp__slurm_mpi_defaults(void);

/* The job a run is part of, from SLURM's environment; all NULL outside a
 * job. Strings belong to the environment. */
typedef struct hp_slurm_job {
  const char *id;         /* SLURM_JOB_ID */
  const char *name;       /* SLURM_JOB_NAME */
  const char *nodes;      /* SLURM_JOB_NODELIST */
  const char *array_job;  /* SLURM_ARRAY_JOB_ID */
  const char *array_task; /* SLURM_ARRAY_TASK_ID */
  const char *restarts;   /* SLURM_RESTART_COUNT (set after a requeue) */
} hp_slurm_job;

/* Fills j; returns 1 inside a job, 0 outside. */
int hp__slurm_job(hp_slurm_job *j);

#endif
