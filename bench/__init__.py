"""golive benchmarks: `make bench` (python -m bench) runs each area and prints ratios against baselines."""
