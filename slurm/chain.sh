#!/bin/bash
# A chain of pipelines as three jobs: make and merge the data, then the
# modelling sweep (slurm/sweep.sbatch) once that succeeded, then the
# comparison once every sweep task succeeded. A job whose dependency fails
# is cancelled at once (--kill-on-invalid-dep), and `hpcpipe slurm status`
# or `squeue` says why.
# From the project directory:   bash slurm/chain.sh
set -euo pipefail
prep=$(sbatch --parsable --job-name=hpcpipe-prep --ntasks=4 \
  --output=slurm-%x-%j.out --wrap "srun --mpi=pmix --kill-on-bad-exit=1 hpcpipe run conf --pipelines synthetic,merge_data")
sweep=$(sbatch --parsable --dependency="afterok:$prep" --kill-on-invalid-dep=yes \
  slurm/sweep.sbatch)
# the versions the sweep wrote, one line per task's labels file
report=$(sbatch --parsable --dependency="afterok:$sweep" --kill-on-invalid-dep=yes \
  --job-name=hpcpipe-sweep-report --ntasks=1 --output=slurm-%x-%j.out \
  --wrap "ls -1 data/07_model_output/sweep/active_labels.csv/*/active_labels.csv > data/08_reporting/sweep_versions.txt")
echo "prep $prep -> sweep $sweep -> report $report"
