"""Scoring the pipeline against rated data sets (VEATIC, FindingEmo), ablations, and speed benchmarks."""
