FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SE_OFFLINE=true DATA_DIR=/data
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium chromium-driver \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home jbtestsuite && mkdir -p /data && chown jbtestsuite /data
USER jbtestsuite
EXPOSE 8000
CMD ["gunicorn", "jbtestsuite.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
