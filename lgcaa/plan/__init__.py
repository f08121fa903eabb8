"""Before a long run: what every job of a profile costs and whether it can start (`lgcaa plan`).

  throughput  measured rates (device + command) and the extrapolations derived from them
  cost        estimated device-seconds per job kind (training, sampling, baselines, metrics)
  resources   what each DAG job asks a scheduler for (gpu, cpus_per_task, mem_mb, runtime); the rules read it
  jobs        every job of a profile (the DAG's, one to one) with its estimate, resources and disk footprint
  readiness   every missing input of those jobs, with the command that fixes it
  render      the text `lgcaa plan` prints
"""
