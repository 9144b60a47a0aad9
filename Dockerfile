# ThaliMon production image: gunicorn serving Django, static files by whitenoise.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint needs Pango and fonts (Noto CJK: Chinese PDFs); gettext compiles the
# translations (issue 17); curl is not needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk gettext \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 thalimon
WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
    && DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && DEBUG=0 SECRET_KEY=compilemessages-only python manage.py compilemessages --ignore=.venv --ignore=var \
    && mkdir -p /data/uploads \
    && chown -R thalimon:thalimon /app /data/uploads

USER thalimon
EXPOSE 8000
CMD ["gunicorn", "thalimon.wsgi:application"]
