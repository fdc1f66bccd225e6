"""Azure OpenAI fine-tuning: the OpenAI flow through ``openai.AzureOpenAI``, plus deploying the result.

Credentials come from the environment only: ``AZURE_OPENAI_API_KEY`` for the resource, and
``AZURE_MANAGEMENT_TOKEN`` (or ``TEMP_AUTH_TOKEN``, as in Azure's tutorial) for the management API.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from ..errors import MissingExtraError, TrainerError
from .base import Job, env_secret, redact
from .openai_backend import OpenAIBackend, OpenAIParams

MANAGEMENT_URL = "https://management.azure.com"
MANAGEMENT_API_VERSION = "2024-10-01"


class AzureOpenAIParams(OpenAIParams):
    azure_endpoint: str | None = Field(
        None, description="https://<resource>.openai.azure.com (or AZURE_OPENAI_ENDPOINT)"
    )
    api_version: str | None = Field(None, description="or OPENAI_API_VERSION; default 2024-10-21")


class AzureOpenAIBackend(OpenAIBackend):
    name: ClassVar[str] = "azure-openai"
    description: ClassVar[str] = "Azure OpenAI fine-tuning (supervised or DPO) on exports/openai, plus deploy"
    Params: ClassVar[type[BaseModel]] = AzureOpenAIParams
    provider: ClassVar[str] = "Azure OpenAI"

    def _secrets(self) -> list[str | None]:
        return [
            env_secret("AZURE_OPENAI_API_KEY"),
            env_secret("AZURE_MANAGEMENT_TOKEN"),
            env_secret("TEMP_AUTH_TOKEN"),
        ]

    def client(self, params: dict[str, Any]) -> Any:
        try:
            import openai
        except ImportError:
            raise MissingExtraError("openai", "train") from None
        key = env_secret("AZURE_OPENAI_API_KEY")
        endpoint = params.get("azure_endpoint") or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not key:
            raise TrainerError(
                "AZURE_OPENAI_API_KEY is not set", hint="export AZURE_OPENAI_API_KEY=... in the environment"
            )
        if not endpoint:
            raise TrainerError(
                "no Azure OpenAI endpoint",
                hint="--param azure_endpoint=https://<resource>.openai.azure.com or AZURE_OPENAI_ENDPOINT",
            )
        return openai.AzureOpenAI(
            api_key=key,
            azure_endpoint=endpoint,
            api_version=params.get("api_version") or os.environ.get("OPENAI_API_VERSION") or "2024-10-21",
            max_retries=params.get("max_retries", 2),
            timeout=params.get("timeout", 120.0),
        )

    def deploy(
        self,
        job: Job,
        *,
        subscription: str,
        resource_group: str,
        account: str,
        deployment_name: str,
        sku: str = "standard",
        capacity: int = 1,
        management_url: str | None = None,
    ) -> Job:
        """PUT the fine-tuned model as a deployment (the last step of Azure's fine-tuning tutorial)."""
        if job.status != "succeeded" or not job.output_model:
            raise TrainerError(
                f"job {job.id} has no fine-tuned model yet (status {job.status})",
                hint="wait until `curate jobs show` says succeeded",
            )
        token = env_secret("AZURE_MANAGEMENT_TOKEN") or env_secret("TEMP_AUTH_TOKEN")
        if not token:
            raise TrainerError(
                "no Azure management token",
                hint="export AZURE_MANAGEMENT_TOKEN=$(az account get-access-token --query accessToken -o tsv)",
            )
        base = (management_url or os.environ.get("CURATION_AZURE_MANAGEMENT_URL") or MANAGEMENT_URL).rstrip("/")
        url = (
            f"{base}/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/"
            f"Microsoft.CognitiveServices/accounts/{account}/deployments/{deployment_name}"
            f"?api-version={MANAGEMENT_API_VERSION}"
        )
        body = {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": job.output_model, "version": "1"}},
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("error", {}).get("message", detail)
            except (ValueError, AttributeError):
                pass
            raise TrainerError(
                redact(f"Azure deployment failed ({exc.code}): {detail}", self._secrets()),
                hint="check the subscription, resource group, account and that the token is current",
            ) from None
        except urllib.error.URLError as exc:
            raise TrainerError(
                f"cannot reach the Azure management API: {exc.reason}", hint="check the network"
            ) from None
        job.info["deployment"] = {
            "name": deployment_name,
            "account": account,
            "resource_group": resource_group,
            "subscription": subscription,
            "provisioning_state": answer.get("properties", {}).get("provisioningState"),
            "id": answer.get("id"),
        }
        return job
