# syntax=docker/dockerfile:1
# The operator image: `cloudmodel run` as a non-root user on a slim, pinned Python.
# Only the operator and its hash-pinned runtime set (requirements/runtime.lock) are installed, by
# hack/install-image.sh, which CI runs too; no simulator, sandbox, pip or setuptools ships.
# For reproducible builds, pin the base image by digest as well (python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY requirements/build.lock requirements/runtime.lock requirements/
COPY pyproject.toml README.md LICENSE ./
COPY operator/ operator/
COPY hack/install-image.sh hack/install-image.sh
RUN sh hack/install-image.sh /opt/cloudmodel

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="cloudmodel-operator" \
      org.opencontainers.image.description="Mirrors model services on Chinese clouds into Kubernetes CloudModelService status" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/cloudmodel-operator/cloudmodel-operator"
ENV PATH=/opt/cloudmodel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/cloudmodel /opt/cloudmodel
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/opt/cloudmodel/bin/cloudmodel"]
CMD ["run"]
