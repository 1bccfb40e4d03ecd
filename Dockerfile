# Parley worker image for LiveKit Cloud (`lk agent create` builds from this file).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 parley
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY plugins ./plugins
RUN pip install .
USER parley

# Health endpoint of the livekit-agents worker (GET / → OK).
EXPOSE 8081
CMD ["python", "-m", "agent", "start"]
