"""Benchmark library behind ``tools/benchmark.py``: measuring helpers
(:mod:`.measure`), the pretraining step with its peers (:mod:`.pretrain`,
:mod:`.peers`), multi-view inference (:mod:`.inference`)."""
