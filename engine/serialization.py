"""State-only serialisation of workflows.

SpiffWorkflow's serializer writes the whole spec into every instance. saygac stores only the
instance's state and takes the spec from the parsed-spec cache of the instance's process
version, which halves size and load time. The stored ``serializer_version`` says which format
a row holds; an older library format is upgraded through the library's own migrations by
putting the spec back in before restoring.
"""
from __future__ import annotations

import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_FORMAT
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

STATE_FORMAT = f"spiff-{SPIFF_FORMAT}/state-1"


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs; restores it onto specs given by the caller."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:  # a full (library-format) dict, e.g. after a migration
            return super().from_dict(dct)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """Turns a workflow into compact JSON text and back, given the parsed spec."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = StateOnlyWorkflowConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self._full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    @property
    def registry(self):
        """The library's converter registry (its diff tools compare specs through it)."""
        return self._full.registry

    def dumps(self, workflow: BpmnWorkflow) -> str:
        s = self._serializer
        s.registry._encoder_mode = True
        try:
            dct = s.to_dict(workflow)
            return json.dumps(dct, cls=s._encoder_cls, separators=(",", ":"), ensure_ascii=False)
        finally:
            s.registry._encoder_mode = False

    def loads(self, text: str, version: str, spec, subprocess_specs) -> BpmnWorkflow:
        dct = json.loads(text)
        if version == STATE_FORMAT:
            return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
        return self._upgrade(dct, version, spec, subprocess_specs)

    def _upgrade(self, dct, version, spec, subprocess_specs) -> BpmnWorkflow:
        """Restore a state written by another library format through the library's migrations."""
        library_version = version.removeprefix("spiff-").split("/")[0]
        full = self._full
        dct["spec"] = full.to_dict(spec)
        dct["subprocess_specs"] = {name: full.to_dict(s) for name, s in subprocess_specs.items()}
        dct[full.VERSION_KEY] = library_version
        full.migrate(dct)
        return full.from_dict(dct)
