"""Before a long run: what every job of a profile costs and whether it can start.

  throughput  measured rates (device + command) and the extrapolations derived from them
  cost        estimated device-seconds per job kind (training, sampling, baselines, metrics)
  resources   what each DAG job asks a scheduler for (gpu, cpus_per_task, mem_mb, runtime)
"""
