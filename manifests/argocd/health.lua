-- Argo CD health for cloudmodel.io/CloudModelService.
-- Install: argocd-cm key resource.customizations.health.cloudmodel.io_CloudModelService
-- (see argocd-cm-patch.yaml). Reads only status written by the operator.
local hs = {}

local function condition(obj, type)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Polling is suspended (spec.suspend)"
  return hs
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator's first observation"
  return hs
end

if obj.status.observedGeneration == nil or obj.metadata.generation == nil
    or obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the latest spec"
  return hs
end

local ready = condition(obj, "Ready")
local stalled = condition(obj, "Stalled")
local phase = obj.status.phase

if stalled ~= nil and stalled.status == "True" then
  if stalled.reason == "NotFound" then
    hs.status = "Missing"
  else
    hs.status = "Degraded"
  end
  hs.message = describe(stalled, "Stalled")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

if ready ~= nil and ready.reason == "StaleObservation" then
  hs.status = "Degraded"
  hs.message = describe(ready, "The last observation is stale")
  return hs
end

if phase == "Stopped" then
  hs.status = "Suspended"
  hs.message = describe(ready, "The model service is stopped")
  return hs
end

if phase == "Failed" or phase == "Degraded" then
  hs.status = "Degraded"
  hs.message = describe(ready, phase)
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for the model service to become ready")
return hs
