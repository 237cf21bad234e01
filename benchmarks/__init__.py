"""nnscratch against PyTorch on the same machine, in the same run (dev-only: needs torch and threadpoolctl).

    python -m benchmarks              training/inference samples/s and peak memory, 5 models  (throughput.py)
    python -m benchmarks.accuracy     the same recipe in both libraries: test accuracy        (accuracy.py)
    python -m benchmarks.reconstruction  the autoencoder and the U-Net, same recipe: test MSE, IoU
    python -m benchmarks.conv_modules Conv2D alone against torch.nn.Conv2d, per layer shape
    python -m benchmarks.layer_times  one model's training step, layer by layer, in both libraries
    python -m benchmarks.overfit      can every full-size architecture overfit one batch?
    mpiexec -n 2 python -m benchmarks.allreduce   allreduce time per size; the fitted alpha-beta model
    python -m benchmarks.data_parallel            1 process x 2 threads against 2 processes x 1 thread
    python -m benchmarks.scaling_model            predicted speedups on K processes (a model, not a measurement)

Shared pieces: ``timing`` (thread limits, interleaved timing, pauses, medians), ``machine``
(CPU, BLAS and threads), ``workloads`` (the models as the ``nnscratch`` commands build them),
``torch_side`` (their PyTorch twins, optimizers, schedules and loop), ``peak_rss`` (memory,
one child process per library), ``report`` (the JSON the docs read, and Markdown) and
``same_recipe`` (the command line and the run both same-recipe comparisons share).
"""

from nnscratch.common.memory import keep_freed_memory

# Every benchmark process (and each child it starts) runs with freed memory kept for reuse, as
# the ``nnscratch`` command and ``Trainer.fit`` do: the speed and memory measured are the ones
# a user of the library gets. PyTorch shares the process, so it is measured with the same setting.
keep_freed_memory()
