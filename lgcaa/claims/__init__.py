"""The paper's quantitative claims (`results/paper/claims.yaml`), checked on reproduced numbers.

Modules, top-down:
  spec      the claims file: groups, claims, their tests; validated on load
  scores    per-image (x seed) values of every entity a claim names: from our evaluations or the paper
  stats     the test statistics (one number per claim: > 0 means it holds) and the paired bootstrap
  evaluate  one verdict per claim: supported / refuted / inconclusive / not evaluable, with p-value and interval
  render    CSV, Markdown and HTML of the verdicts, and the numbers logged to MLflow
  profile   the verdicts on a profile's numbers and on the paper's own, written to <results>/claims/
"""
