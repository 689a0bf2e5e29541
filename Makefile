# Three commands do everything (README): `make book`, `make test`, `make bench`.
# Each creates the environment it needs (.venv) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch; on Colab nothing here runs and Colab's torch is kept.
TORCH  ?= torch==2.13.0
export BOOK_PROGRESS ?= 0
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: env book pdf test test-lib test-rehearsal test-colab test-rendered test-coursework bench lint strip stamp student grade clean

env: $(VENV)/.ready

$(VENV)/.ready: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -r requirements.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

## The book, built strictly (warnings are errors); executes every chapter at BOOK_SCALE (default small here).
book: env
	$(BIN)/jupyter-book build . -W -n --keep-going

## The whole book as one PDF, _build/latex/book.pdf (copied to _build/html/book.pdf, which the intro
## links), from the notebooks `make book` executed (its cache: nothing runs again), then its test.
## Installs Debian's TeX packages if missing (apt-get, as root; about 80 MB to download).
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
                texlive-fonts-recommended fonts-freefont-otf latexmk poppler-utils
pdf: env
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdftotext >/dev/null \
	  && kpsewhich fncychap.sty >/dev/null || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(TEX_PACKAGES) >/dev/null; }
	$(BIN)/jupyter-book build . --builder pdflatex
	test -s _build/latex/book.pdf
	if [ -d _build/html ]; then cp _build/latex/book.pdf _build/html/book.pdf; fi
	BOOK_PDF_REQUIRED=1 $(BIN)/python -m pytest -q -m pdf tests/test_pdf.py

## All tests: lint, notebook conventions, lib's unit tests (with the Colab check of every chapter's
## first cells in fresh venvs of Colab's versions and of the lower bounds, and the rehearsal of
## every chapter's full code path, as in test-rehearsal), then every chapter by nbval.
test: env
	$(BIN)/ruff check lib tests tools benchmarks chapters
	$(BIN)/python -m tools.notebooks check
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --nbval-lax chapters

test-lib: env
	$(BIN)/python -m pytest -q tests -m "not colab and not browser and not rehearsal"

## Every chapter's `full` code path end to end on the CPU (tools/rehearsal.py): BOOK_SCALE=full
## with BOOK_REHEARSAL=1, shrunk sizes, stand-in MNIST/CIFAR-10/enwik8 files in the real formats
## (generated, no download). `python -m tools.rehearsal [CHAPTER ...]` prints one line a chapter.
test-rehearsal: env
	$(BIN)/python -m pytest -q -m rehearsal tests/test_rehearsal.py

## Every chapter in a fresh venv of Colab's package versions (../shared/colab/pip-freeze.gpu.txt
## beside the repository; BOOK_COLAB_FREEZE names another), and in one of the oldest versions
## pyproject.toml and requirements.txt allow: setup cell + first cells (BOOK_COLAB_CELLS=all: all).
## Prints how each environment differs (Python, torch, versions without a release here).
test-colab: env
	$(BIN)/python -m pytest -q -m colab tests/test_colab.py

## Every page of the built book (run `make book` first) in headless Chromium, with screenshots.
test-rendered: env
	test -f $(VENV)/mathjax/node_modules/mathjax/es5/tex-mml-chtml.js || npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/mathjax mathjax@3
	$(BIN)/python -m pytest -q -m browser tests/test_rendered.py

## Student edition: notebooks without solutions (student/chapters), the book built from them
## (strictly, reusing `make book`'s outputs), and the nbgrader course: COURSE/source/<chapter>/
## (solutions in) released by nbgrader to COURSE/release/<chapter>/ (what students get).
COURSE ?= course
NBGRADER = cd $(COURSE) && PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/nbgrader
student: env
	$(BIN)/python -m tools.student edition student
	$(BIN)/python -m tools.student website _build/student --reuse _build
	$(BIN)/python -m tools.student nbgrader $(COURSE)
	for a in $(COURSE)/source/*/; do ($(NBGRADER) generate_assignment --force $$(basename $$a)) || exit 1; done

## Grade with nbgrader: submissions in COURSE/submitted/<student>/<chapter>/<chapter>.ipynb;
## then COURSE/grades.csv per student and exercise (pen-and-paper ones "graded by hand").
## make grade CHAPTERS="01_pac_bound" (default: every chapter with submissions)
CHAPTERS ?= $(sort $(notdir $(patsubst %/,%,$(wildcard $(COURSE)/submitted/*/*/))))
grade: env
	for a in $(CHAPTERS); do ($(NBGRADER) autograde --create $$a) || exit 1; done
	$(BIN)/python -m tools.student grades $(COURSE)

## Slow: nbgrader's round trip on every chapter (solution: full marks, blank release: zero);
## the fast suite does chapter 1.
COURSEWORK ?= 1
test-coursework: env
	COURSEWORK_FULL=$(COURSEWORK) $(BIN)/python -m pytest -q tests/test_coursework.py -k round_trip_of_the_real

bench: env
	$(BIN)/python -m benchmarks

## For a machine with a CUDA GPU and no internet (about 8 minutes): the rehearsal of every chapter
## on the GPU, its main kernels timed at full-scale sizes, each chapter's full-scale time
## extrapolated; one line per chapter, benchmarks/results/gpu.json. BOOK_DEVICE=cpu: the CPU
## fallback; GPU_CHECK="--quick" limits it to two chapters and one step a kernel.
.PHONY: gpu-check
gpu-check: env
	$(BIN)/python -m tools.gpu_check $(GPU_CHECK)

lint: env
	$(BIN)/ruff check lib tests tools benchmarks chapters
	$(BIN)/ruff format --check lib tests tools benchmarks

## nbstripout on every chapter (cell ids kept); `tools.notebooks check` verifies it.
strip: env
	$(BIN)/python -m tools.notebooks strip

## Cell metadata and setup cells, then the committed student editions regenerated from them
## (tests/test_coursework.py fails on a stale one).
stamp: env
	$(BIN)/python -m tools.notebooks stamp
	$(BIN)/python -m tools.student edition student

clean:
	rm -rf _build
