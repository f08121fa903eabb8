"""Datasets: offline mini photos, canonical layout `<root>/<name>/{hr,lr}/*.png` + `manifest.json`."""
