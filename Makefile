# Quick start:  make demo  |  make test   (both set up .venv on first use)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmvmae2-installed
DEMO_DIR ?= data/demo
DEMO_CFG ?= configs/pretrain/videomaev2_vit-tiny_demo.py
WORK_DIR ?= work_dirs/videomaev2_vit-tiny_demo
FINETUNE_DATA ?= data/demo/lighting

.PHONY: setup demo demo-finetune test benchmark clean

setup: $(STAMP)

$(STAMP): constraints.txt setup.cfg pyproject.toml tools/install.sh
	bash tools/install.sh $(VENV)
	touch $(STAMP)

demo: setup
	$(PY) tools/make_demo_data.py $(DEMO_DIR)
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(WORK_DIR)
	$(PY) tools/visualize_reconstruction.py $(DEMO_CFG) $$(cat $(WORK_DIR)/last_checkpoint) \
		$(DEMO_DIR)/video_000.mp4 --out $(WORK_DIR)/reconstruction.png

# after `make demo`: fine-tune its checkpoint and train from scratch on labeled demo videos
demo-finetune: setup
	$(PY) tools/make_demo_data.py $(FINETUNE_DATA) --labeled
	$(PY) tools/demo_finetune.py --data-root $(FINETUNE_DATA) --pretrained $(WORK_DIR)/epoch_80.pth \
		--work-dir work_dirs/demo_finetune

test: setup
	$(PY) -m pytest tests -q

# CPU, 1 thread (compare the ratios within a table); OFFICIAL=path/to/VideoMAEv2 adds the official
# code, PEERS=hf adds HF transformers' VideoMAE V1 (pip install -e ".[hf]")
OFFICIAL ?=
PEERS ?=
benchmark: setup
	$(PY) tools/benchmark.py --arch base --threads 1 --repeats 4 --maest --profile --infer --infer-size 112 --data \
		$(if $(OFFICIAL),--official $(OFFICIAL)) $(if $(PEERS),--peer $(PEERS)) --out docs/benchmarks.md

clean:
	rm -rf $(WORK_DIR) $(DEMO_DIR)
