"""Azure OpenAI fine-tuning: the OpenAI flow through ``openai.AzureOpenAI``, plus deploying the result.

Credentials come from the environment only: ``AZURE_OPENAI_API_KEY`` for the resource, and
``AZURE_MANAGEMENT_TOKEN`` (or ``TEMP_AUTH_TOKEN``, as in Azure's tutorial) for the management API.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from ..errors import MissingExtraError, TrainerError
from .base import Job, PreparedData, env_secret, kind_export_dir, redact
from .openai_backend import OpenAIBackend, OpenAIParams

# Open on Azure, SFT and DPO (the target table: curate models --provider azure-openai).
DEFAULT_MODEL = "gpt-4.1-mini-2025-04-14"

MANAGEMENT_URL = "https://management.azure.com"
MANAGEMENT_API_VERSION = "2024-10-01"


class AzureOpenAIParams(OpenAIParams):
    model: str = Field(DEFAULT_MODEL, description="base model to fine-tune (one of Azure's in the target table)")
    azure_endpoint: str | None = Field(
        None, description="https://<resource>.openai.azure.com (or AZURE_OPENAI_ENDPOINT)"
    )
    api_version: str | None = Field(None, description="or OPENAI_API_VERSION; default 2024-10-21")


class AzureOpenAIBackend(OpenAIBackend):
    name: ClassVar[str] = "azure-openai"
    description: ClassVar[str] = "Azure OpenAI fine-tuning (supervised or DPO) on exports/azure-openai, plus deploy"
    Params: ClassVar[type[BaseModel]] = AzureOpenAIParams
    provider: ClassVar[str] = "Azure OpenAI"
    export_format: ClassVar[str] = "azure-openai"

    def _azure_model(self, run_dir: Path, name: str) -> Any:
        """The table's Azure model for ``name``; an unknown model is refused before any network call."""
        from ..targets import find_model, table_for_run

        provider = table_for_run(run_dir).providers.get("azure-openai")
        model = find_model(provider, name) if provider else None
        if provider is not None and model is None:
            known = ", ".join(sorted(m.id for m in provider.models.values()))
            raise TrainerError(f"Azure OpenAI does not fine-tune {name!r} (target table)",
                               hint=f"--model one of: {known} (curate models --provider azure-openai)")
        return model

    def prepare(self, run_dir: Path, params: dict[str, Any]) -> PreparedData:
        """The Azure export (written for this model when missing or made for another model), checked against
        Azure's methods for the model before anything is uploaded."""
        from ..targets import Target, table_for_run

        name = params.get("model") or DEFAULT_MODEL
        model = self._azure_model(Path(run_dir), name)
        kind = {"supervised": "sft", "dpo": "dpo"}.get(params.get("method", "auto"))
        base = Path(run_dir) / "exports" / self.export_format
        if (base.is_dir() or (Path(run_dir) / "splits").is_dir()) and not self._export_fits(base, kind, name):
            from ..exporters import ExportOptions, export_run
            from ..exporters.outcome import refusal_line

            result = export_run(Path(run_dir), [self.export_format],
                                ExportOptions(method=kind or "auto", model=name), each=True)
            if result.refused:
                target, issues = next(iter(result.refused.items()))
                raise TrainerError(f"the Azure export was refused: {refusal_line(target, issues, True)}",
                                   hint=f"fix the run, then: curate export {run_dir} --to azure-openai --model {name}")
        prepared = super().prepare(run_dir, params)
        if model is not None:
            methods = Target(table_for_run(run_dir).providers["azure-openai"], model).methods()
            wanted = "dpo" if prepared.kind == "dpo" else "sft"
            if wanted not in methods:
                raise TrainerError(
                    f"Azure OpenAI does not fine-tune {model.id} with {wanted.upper()} (it takes: "
                    f"{', '.join(methods)})",
                    hint="choose a model that takes it, e.g. --model gpt-4.1-mini-2025-04-14 (curate models "
                    f"--provider azure-openai --method {wanted})")
        return prepared

    def _export_fits(self, base: Path, kind: str | None, model: str) -> bool:
        """An existing Azure export of the wanted kind, written for this model (or by hand, without export.json)."""
        try:
            folder = kind_export_dir(base, kind)
        except TrainerError:
            return False
        if not (folder / "train.jsonl").exists():
            return False
        manifest = folder / "export.json"
        if not manifest.exists():
            return True
        written_for = str(json.loads(manifest.read_text(encoding="utf-8")).get("model") or "")
        return written_for.removesuffix("@azure") == model.removesuffix("@azure") or written_for == f"{model}@azure"

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
        url = self._deployment_url(subscription, resource_group, account, deployment_name, management_url)
        body = {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": job.output_model, "version": "1"}},
        }
        answer = self._management("PUT", url, body, "Azure deployment failed")
        job.info["deployment"] = {
            "name": deployment_name,
            "account": account,
            "resource_group": resource_group,
            "subscription": subscription,
            "provisioning_state": answer.get("properties", {}).get("provisioningState"),
            "id": answer.get("id"),
            "management_url": management_url,
        }
        return job

    # -- the rest of the tutorial: follow the deployment, call it once, delete it -----------------------------
    def _deployment_url(self, subscription: str, resource_group: str, account: str, name: str,
                        management_url: str | None = None) -> str:
        base = (management_url or os.environ.get("CURATION_AZURE_MANAGEMENT_URL") or MANAGEMENT_URL).rstrip("/")
        return (
            f"{base}/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/"
            f"Microsoft.CognitiveServices/accounts/{account}/deployments/{name}"
            f"?api-version={MANAGEMENT_API_VERSION}"
        )

    def _management(self, method: str, url: str, body: dict[str, Any] | None, what: str) -> dict[str, Any]:
        token = env_secret("AZURE_MANAGEMENT_TOKEN") or env_secret("TEMP_AUTH_TOKEN")
        if not token:
            raise TrainerError(
                "no Azure management token",
                hint="export AZURE_MANAGEMENT_TOKEN=$(az account get-access-token --query accessToken -o tsv)",
            )
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("error", {}).get("message", detail)
            except (ValueError, AttributeError):
                pass
            raise TrainerError(
                redact(f"{what} ({exc.code}): {detail}", self._secrets()),
                hint="check the subscription, resource group, account and that the token is current",
            ) from None
        except urllib.error.URLError as exc:
            raise TrainerError(
                f"cannot reach the Azure management API: {exc.reason}", hint="check the network"
            ) from None

    def _deployment(self, job: Job) -> dict[str, Any]:
        deployment = job.info.get("deployment")
        if not deployment or deployment.get("deleted"):
            raise TrainerError(f"job {job.id} has no deployment", hint=f"curate jobs deploy {job.id} ...")
        return deployment

    def _url_of(self, deployment: dict[str, Any]) -> str:
        return self._deployment_url(deployment["subscription"], deployment["resource_group"],
                                    deployment["account"], deployment["name"], deployment.get("management_url"))

    def deployment_state(self, job: Job) -> Job:
        """GET the deployment; records its provisioning state (Creating, Succeeded, Failed, ...)."""
        deployment = self._deployment(job)
        answer = self._management("GET", self._url_of(deployment), None, "reading the Azure deployment failed")
        deployment["provisioning_state"] = answer.get("properties", {}).get("provisioningState")
        return job

    def wait_deployment(self, job: Job, *, timeout_s: float = 1800.0, poll_s: float = 15.0,
                        on_update: Any = None) -> Job:
        """Follow the deployment until it is ready (Succeeded) or failed; raises on failure or timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.deployment_state(job)
            state = job.info["deployment"].get("provisioning_state")
            if on_update:
                on_update(state)
            if state == "Succeeded":
                return job
            if state in ("Failed", "Canceled", "Deleting"):
                raise TrainerError(f"deployment {job.info['deployment']['name']} is {state}",
                                   hint="see the deployment in the Azure portal, then deploy again")
            if time.monotonic() >= deadline:
                raise TrainerError(f"deployment {job.info['deployment']['name']} still {state} after "
                                   f"{timeout_s:.0f} s", hint=f"check later with `curate jobs show {job.id}`")
            time.sleep(poll_s)

    def smoke_test(self, job: Job, prompt: str = "Say hello in one short sentence.") -> Job:
        """One chat completion on the new deployment, recorded in the job (answer, latency)."""
        deployment = self._deployment(job)
        client = self.client(job.params)
        start = time.perf_counter()
        answer = self._call(client.chat.completions.create, model=deployment["name"], max_tokens=32,
                            temperature=0, messages=[{"role": "user", "content": prompt}])
        deployment["smoke_test"] = {
            "prompt": prompt,
            "answer": (answer.choices[0].message.content or "") if answer.choices else "",
            "latency_s": round(time.perf_counter() - start, 3),
            "at": time.time(),
        }
        return job

    def undeploy(self, job: Job) -> Job:
        """DELETE the deployment (it is billed per hour while it exists)."""
        deployment = self._deployment(job)
        self._management("DELETE", self._url_of(deployment), None, "deleting the Azure deployment failed")
        deployment["deleted"] = True
        deployment["deleted_at"] = time.time()
        deployment["provisioning_state"] = "Deleted"
        return job
