// The saygac group of the properties panel: the SpiffWorkflow extension properties saygac reads
// (formKey, async, service operation and parameters, decision id, pre-script), timer expressions
// and gateway conditions. Entries are @bpmn-io/properties-panel components built with its own
// preact (`h`), so hooks share one preact instance with the panel.
import { h } from "@bpmn-io/properties-panel/preact";
import { CheckboxEntry, TextAreaEntry, TextFieldEntry } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";

function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }

function extensions(bo, type) {
  const ee = bo.get("extensionElements");
  return ee ? ee.get("values").filter((v) => is(v, type)) : [];
}

function ensureExtensionElements(element, moddle, modeling) {
  const bo = element.businessObject;
  let ee = bo.get("extensionElements");
  if (!ee) {
    ee = moddle.create("bpmn:ExtensionElements", { values: [] });
    ee.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ee });
  }
  return ee;
}

function ensureExtension(element, type, attrs, moddle, modeling) {
  const found = extensions(element.businessObject, type)[0];
  if (found) return found;
  const ee = ensureExtensionElements(element, moddle, modeling);
  const created = moddle.create(type, attrs);
  created.$parent = ee;
  modeling.updateModdleProperties(element, ee, { values: [...ee.get("values"), created] });
  return created;
}

export function getProperty(bo, name) {
  const props = extensions(bo, "spiffworkflow:Properties")[0];
  const p = props && props.get("properties").find((x) => x.name === name);
  return p ? p.value : undefined;
}

function setProperty(element, name, value, moddle, modeling) {
  const props = ensureExtension(element, "spiffworkflow:Properties", { properties: [] }, moddle, modeling);
  const p = props.get("properties").find((x) => x.name === name);
  if (p) {
    modeling.updateModdleProperties(element, p, { value });
  } else {
    const created = moddle.create("spiffworkflow:Property", { name, value });
    created.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...props.get("properties"), created] });
  }
}

function bodyExtension(type) {
  return {
    get: (bo) => { const e = extensions(bo, type)[0]; return e ? e.value || "" : ""; },
    set: (element, value, moddle, modeling) => {
      const e = ensureExtension(element, type, { value }, moddle, modeling);
      modeling.updateModdleProperties(element, e, { value });
    },
  };
}

const DECISION = bodyExtension("spiffworkflow:CalledDecisionId");
const PRESCRIPT = bodyExtension("spiffworkflow:PreScript");

function operator(bo) { return extensions(bo, "spiffworkflow:ServiceTaskOperator")[0]; }

// Parameters as lines "name: type = expression"
export function formatParameters(op) {
  const params = op && op.get("parameters");
  return params ? params.get("parameters").map((p) => `${p.id}: ${p.type || "str"} = ${p.value || ""}`).join("\n") : "";
}

export function parseParameters(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([A-Za-z_]+))?\s*=\s*(.*)$/.exec(line);
    return m ? { id: m[1], type: m[2] || "str", value: m[3] } : { id: line, type: "str", value: "" };
  });
}

function timerDefinition(bo) {
  return (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:TimerEventDefinition"));
}

function timerKey(def) {
  return ["timeDuration", "timeDate", "timeCycle"].find((k) => def.get(k)) || "timeDuration";
}

function entry(component, id, element) { return { id, element, component, isEdited: () => true }; }

function textField(label, description, get, set) {
  return function Component(props) {
    const { element, id } = props;
    const modeling = useService("modeling");
    const moddle = useService("moddle");
    const debounce = useService("debounceInput");
    return h(TextFieldEntry, {
      id, element, label, description, debounce,
      getValue: () => get(element.businessObject) || "",
      setValue: (value) => set(element, value, moddle, modeling),
    });
  };
}

function textArea(label, description, get, set) {
  return function Component(props) {
    const { element, id } = props;
    const modeling = useService("modeling");
    const moddle = useService("moddle");
    const debounce = useService("debounceInput");
    return h(TextAreaEntry, {
      id, element, label, description, debounce, rows: 3, monospace: true,
      getValue: () => get(element.businessObject) || "",
      setValue: (value) => set(element, value, moddle, modeling),
    });
  };
}

const FormKey = textField("Form (formKey)", "the form shown for this user task",
  (bo) => getProperty(bo, "formKey"), (el, v, m, mod) => setProperty(el, "formKey", v, m, mod));

function AsyncFlag(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const moddle = useService("moddle");
  return h(CheckboxEntry, {
    id, element, label: "Run in the worker (async)",
    getValue: () => getProperty(element.businessObject, "async") === "true",
    setValue: (value) => setProperty(element, "async", value ? "true" : "false", moddle, modeling),
  });
}

const Operation = textField("Service operation", "saygac/<operation name>",
  (bo) => (operator(bo) || {}).id,
  (el, v, m, mod) => {
    const op = ensureExtension(el, "spiffworkflow:ServiceTaskOperator", { id: v }, m, mod);
    mod.updateModdleProperties(el, op, { id: v });
  });

const ResultVariable = textField("Result variable", "task data name that receives the result",
  (bo) => (operator(bo) || {}).resultVariable,
  (el, v, m, mod) => {
    const op = ensureExtension(el, "spiffworkflow:ServiceTaskOperator", { id: "" }, m, mod);
    mod.updateModdleProperties(el, op, { resultVariable: v });
  });

const Parameters = textArea("Parameters", "one a line: name: type = expression",
  (bo) => formatParameters(operator(bo)),
  (el, v, m, mod) => {
    const op = ensureExtension(el, "spiffworkflow:ServiceTaskOperator", { id: "" }, m, mod);
    const container = m.create("spiffworkflow:Parameters", { parameters: [] });
    container.$parent = op;
    const list = parseParameters(v).map((p) => { const x = m.create("spiffworkflow:Parameter", p); x.$parent = container; return x; });
    container.set("parameters", list);
    mod.updateModdleProperties(el, op, { parameters: container });
  });

const Decision = textField("Decision (DMN id)", "the decision table this task evaluates", DECISION.get, DECISION.set);
const PreScript = textArea("Pre-script", "name = expression, one a line", PRESCRIPT.get, PRESCRIPT.set);

const Timer = textField("Timer expression", 'ISO 8601 in quotes, e.g. "P2D"',
  (bo) => { const d = timerDefinition(bo); const e = d && d.get(timerKey(d)); return e ? e.body : ""; },
  (el, v, m, mod) => {
    const d = timerDefinition(el.businessObject);
    const key = timerKey(d);
    const expr = d.get(key);
    if (expr) {
      mod.updateModdleProperties(el, expr, { body: v });
    } else {
      const created = m.create("bpmn:FormalExpression", { body: v });
      created.$parent = d;
      mod.updateModdleProperties(el, d, { [key]: created });
    }
  });

const Condition = textField("Condition", 'e.g. decision == "accept"',
  (bo) => (bo.conditionExpression ? bo.conditionExpression.body : ""),
  (el, v, m, mod) => {
    if (!v) { mod.updateProperties(el, { conditionExpression: undefined }); return; }
    const created = m.create("bpmn:FormalExpression", { body: v });
    mod.updateProperties(el, { conditionExpression: created });
  });

function Lane(props) {
  const { element, id } = props;
  const lane = element.parent && element.parent.type === "bpmn:Lane" ? element.parent.businessObject.name : "";
  return h(TextFieldEntry, {
    id, element, label: "Lane (role)", description: "move the element into another lane to change it",
    getValue: () => lane || "", setValue: () => {}, disabled: true,
  });
}

export function saygacEntries(element) {
  const bo = element.businessObject;
  const entries = [];
  if (is(bo, "bpmn:FlowNode") && element.parent && element.parent.type === "bpmn:Lane") entries.push(entry(Lane, "saygacLane", element));
  if (is(bo, "bpmn:UserTask")) entries.push(entry(FormKey, "saygacFormKey", element));
  if (is(bo, "bpmn:ServiceTask")) {
    entries.push(entry(Operation, "saygacOperation", element), entry(ResultVariable, "saygacResult", element),
      entry(Parameters, "saygacParameters", element));
  }
  if (is(bo, "bpmn:Task") && !is(bo, "bpmn:UserTask")) entries.push(entry(AsyncFlag, "saygacAsync", element));
  if (is(bo, "bpmn:BusinessRuleTask")) entries.push(entry(Decision, "saygacDecision", element));
  if (is(bo, "bpmn:Activity")) entries.push(entry(PreScript, "saygacPreScript", element));
  if (is(bo, "bpmn:Event") && timerDefinition(bo)) entries.push(entry(Timer, "saygacTimer", element));
  if (is(bo, "bpmn:SequenceFlow") && bo.sourceRef && is(bo.sourceRef, "bpmn:Gateway")) entries.push(entry(Condition, "saygacCondition", element));
  return entries;
}

class SaygacPropertiesProvider {
  constructor(propertiesPanel) { propertiesPanel.registerProvider(400, this); }

  getGroups(element) {
    return (groups) => {
      const entries = saygacEntries(element);
      if (entries.length) groups.splice(1, 0, { id: "saygac", label: "saygac", entries });
      return groups;
    };
  }
}
SaygacPropertiesProvider.$inject = ["propertiesPanel"];

export default { __init__: ["saygacPropertiesProvider"], saygacPropertiesProvider: ["type", SaygacPropertiesProvider] };
