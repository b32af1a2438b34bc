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
# HTTP and WebSocket on one port. HTTP only is possible too (live pages then poll):
#   gunicorn jbtestsuite.wsgi:application --bind 0.0.0.0:8000 --workers 3
CMD ["uvicorn", "jbtestsuite.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", \
     "--ws", "websockets-sansio", "--proxy-headers"]
