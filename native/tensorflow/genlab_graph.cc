/*
 * genlab's extension of tfjs-node's N-API binding: TensorFlow functions from traced ops.
 *
 * On the native TensorFlow backend every tfjs op is one eager TFE_Execute. A training step of a few hundred small
 * ops then pays a dispatch (and, with several threads, a hand-off to TensorFlow's thread pool) per op. These calls
 * let genlab record a step once into a TF_Graph instead (lib/engine/tensorflow-graph.ts drives them), turn the
 * graph into a TensorFlow function registered in the binding's eager context (TF_GraphToFunction +
 * TFE_ContextAddFunction), and from then on run the whole step as one op: tfjs-node's own `executeOp(name, [],
 * inputIds, numOutputs)` executes a registered function by its name. TensorFlow optimises the function's graph
 * (Grappler) and runs independent ops in parallel.
 *
 *   graphBegin(feedableIds)                       start recording (one recording at a time)
 *   graphOp(opName, attrs, inputIds, numOutputs)  add one op; returns [{ id, shape, dtype }] like executeOp
 *   graphEnd(functionName, outputIds)             make and register the function; returns the eager ids whose
 *                                                 values feed its inputs, in order
 *   graphAbort()                                  drop the recording
 *   graphResourceShape(id, dtype, shape)          the variable behind resource handle `id`, for ReadVariableOp's
 *                                                 shape in a recording (ignored outside one)
 *   removeFunction(functionName)                  unregister a function
 *
 * Ids: recorded tensors get negative ids (-1, -2, ...); non-negative ids are the binding's eager tensors. An
 * eager tensor used by a recorded op becomes a function input (a Placeholder) when its id is in `feedableIds` or
 * it is a resource handle, and otherwise a constant of the function (its value now). Shapes must be fully known.
 * Ops on the same resource run in the order they were recorded (control edges).
 */
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tensorflow/c/c_api.h"
#include "tensorflow/c/eager/c_api.h"
#include "tfjs_backend.h"

namespace tfnodejs {

/** The two members of TFJSBackend this file needs (declared a friend in the header genlab compiles). */
struct GenlabGraphAccess {
  static TFE_Context *Context(TFJSBackend *b) { return b->tfe_context_; }
  static TFE_TensorHandle *Handle(TFJSBackend *b, int32_t id) {
    auto it = b->tfe_handle_map_.find(id);
    return it == b->tfe_handle_map_.end() ? nullptr : it->second;
  }
};

namespace {

// ---------------------------------------------------------------------------------------------------------
// Errors: every failure throws a JavaScript Error whose message starts with "genlab graph:".

bool Fail(napi_env env, const std::string &message) {
  napi_throw_error(env, nullptr, ("genlab graph: " + message).c_str());
  return false;
}

bool Check(napi_env env, napi_status s, const char *what) {
  if (s == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) Fail(env, std::string("N-API call failed: ") + what);
  return false;
}

struct Status {
  TF_Status *s = TF_NewStatus();
  ~Status() { TF_DeleteStatus(s); }
  bool Ok() const { return TF_GetCode(s) == TF_OK; }
  std::string Message() const { return TF_Message(s); }
};

// ---------------------------------------------------------------------------------------------------------
// Which inputs of an op are lists. tfjs passes a flat list of input ids (eager execution groups them itself);
// a graph needs TF_AddInputList for list arguments, so the op's definition is read: OpDef.input_arg (field 2),
// each an ArgDef whose number_attr (5) or type_list_attr (6) is set for a list. A minimal protobuf reader.

struct Reader {
  const uint8_t *p, *end;
  bool Varint(uint64_t *v) {
    *v = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
      uint8_t b = *p++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  /** Next field: number and wire type; for length-delimited fields also the bytes. False at the end or on error. */
  bool Next(uint32_t *field, uint32_t *wire, const uint8_t **bytes, uint64_t *len) {
    uint64_t key;
    if (p >= end || !Varint(&key)) return false;
    *field = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    uint64_t v;
    switch (*wire) {
      case 0: return Varint(&v);
      case 1: p += 8; return p <= end;
      case 5: p += 4; return p <= end;
      case 2:
        if (!Varint(len) || *len > static_cast<uint64_t>(end - p)) return false;
        *bytes = p;
        p += *len;
        return true;
      default: return false;
    }
  }
};

/** For each input argument of `op_type`: whether it is a list. */
bool InputArgIsList(TF_Graph *graph, const std::string &op_type, std::vector<bool> *is_list, std::string *error) {
  static std::unordered_map<std::string, std::vector<bool>> cache;
  auto hit = cache.find(op_type);
  if (hit != cache.end()) {
    *is_list = hit->second;
    return true;
  }
  Status status;
  TF_Buffer *buf = TF_NewBuffer();
  TF_GraphGetOpDef(graph, op_type.c_str(), buf, status.s);
  if (!status.Ok()) {
    TF_DeleteBuffer(buf);
    *error = status.Message();
    return false;
  }
  std::vector<bool> lists;
  Reader op{static_cast<const uint8_t *>(buf->data), static_cast<const uint8_t *>(buf->data) + buf->length};
  uint32_t field, wire;
  const uint8_t *bytes = nullptr;
  uint64_t len = 0;
  while (op.Next(&field, &wire, &bytes, &len)) {
    if (field != 2 || wire != 2) continue;
    Reader arg{bytes, bytes + len};
    bool list = false;
    uint32_t f, w;
    const uint8_t *b = nullptr;
    uint64_t l = 0;
    while (arg.Next(&f, &w, &b, &l)) {
      if ((f == 5 || f == 6) && w == 2 && l > 0) list = true;
    }
    lists.push_back(list);
  }
  TF_DeleteBuffer(buf);
  cache[op_type] = lists;
  *is_list = lists;
  return true;
}

/** Appends a protobuf varint. */
void PutVarint(std::string *out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

/** Appends a length-delimited field. */
void PutBytes(std::string *out, uint32_t field, const std::string &bytes) {
  PutVarint(out, (field << 3) | 2);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

/**
 * CppShapeInferenceResult::HandleData for one variable: { is_set: true, shape_and_type: [{ shape, dtype }] }, what
 * lets ReadVariableOp on a resource placeholder infer its output shape.
 */
std::string HandleData(TF_DataType dtype, const std::vector<int64_t> &dims) {
  std::string shape;  // TensorShapeProto: dim (2) { size (1) }
  for (int64_t d : dims) {
    std::string dim;
    PutVarint(&dim, (1 << 3) | 0);
    PutVarint(&dim, static_cast<uint64_t>(d));
    PutBytes(&shape, 2, dim);
  }
  std::string entry;  // HandleShapeAndType: shape (1), dtype (2)
  PutBytes(&entry, 1, shape);
  PutVarint(&entry, (2 << 3) | 0);
  PutVarint(&entry, static_cast<uint64_t>(dtype));
  std::string data;  // HandleData: is_set (1), shape_and_type (2)
  PutVarint(&data, (1 << 3) | 0);
  PutVarint(&data, 1);
  PutBytes(&data, 2, entry);
  return data;
}

// ---------------------------------------------------------------------------------------------------------
// The recording.

struct Recording {
  TF_Graph *graph = TF_NewGraph();
  /** Recorded tensor k has id -(k + 1). */
  std::vector<TF_Output> tensors;
  /** Eager id -> recorded tensor index, for eager tensors already used. */
  std::unordered_map<int32_t, int32_t> captured;
  std::unordered_set<int32_t> feedable;
  /** The function's inputs: placeholders and the eager ids that feed them. */
  std::vector<TF_Output> inputs;
  std::vector<int32_t> input_ids;
  /**
   * Per resource (variable handle): the last op that used it. Ops on one resource keep their program order
   * through control edges (a ReadVariableOp after the ResourceApplyAdam before it), as TensorFlow's automatic
   * control dependencies do for tf.function.
   */
  std::unordered_map<TF_Operation *, TF_Operation *> last_use;
  /** Eager resource id -> the variable's dtype and shape (graphResourceShape), set on its placeholder. */
  std::unordered_map<int32_t, std::pair<TF_DataType, std::vector<int64_t>>> resource_shapes;
  int64_t ops = 0;
  ~Recording() { TF_DeleteGraph(graph); }
};

std::unique_ptr<Recording> recording;

TFJSBackend *Backend(napi_env env) {
  void *data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok || data == nullptr) {
    Fail(env, "tfjs-node's backend is not initialised");
    return nullptr;
  }
  return static_cast<TFJSBackend *>(data);
}

std::string NextName(Recording *r, const char *kind) { return std::string(kind) + "_" + std::to_string(r->ops++); }

/** Records tensor `out` and returns its index. */
int32_t Record(Recording *r, TF_Output out) {
  r->tensors.push_back(out);
  return static_cast<int32_t>(r->tensors.size() - 1);
}

/** The recorded tensor standing for eager tensor `id`: a new Placeholder or Const on first use. */
bool Capture(napi_env env, TFJSBackend *backend, Recording *r, int32_t id, TF_Output *out) {
  auto hit = r->captured.find(id);
  if (hit != r->captured.end()) {
    *out = r->tensors[hit->second];
    return true;
  }
  TFE_TensorHandle *h = GenlabGraphAccess::Handle(backend, id);
  if (h == nullptr) return Fail(env, "input tensor " + std::to_string(id) + " does not exist");
  Status status;
  const TF_DataType dtype = TFE_TensorHandleDataType(h);
  const int rank = TFE_TensorHandleNumDims(h, status.s);
  if (!status.Ok()) return Fail(env, status.Message());
  std::vector<int64_t> dims(rank);
  for (int i = 0; i < rank; i++) dims[i] = TFE_TensorHandleDim(h, i, status.s);
  TF_Operation *op = nullptr;
  if (r->feedable.count(id) || dtype == TF_RESOURCE) {
    const std::string name = NextName(r, "input");
    TF_OperationDescription *d = TF_NewOperation(r->graph, "Placeholder", name.c_str());
    TF_SetAttrType(d, "dtype", dtype);
    TF_SetAttrShape(d, "shape", dims.data(), rank);
    op = TF_FinishOperation(d, status.s);
    if (!status.Ok()) return Fail(env, "Placeholder: " + status.Message());
    auto hint = r->resource_shapes.find(id);
    if (dtype == TF_RESOURCE && hint != r->resource_shapes.end()) {
      const std::string data = HandleData(hint->second.first, hint->second.second);
      TF_SetHandleShapeAndType(r->graph, TF_Output{op, 0}, data.data(), data.size(), status.s);
      if (!status.Ok()) return Fail(env, "resource shape: " + status.Message());
    }
    r->inputs.push_back(TF_Output{op, 0});
    r->input_ids.push_back(id);
  } else {
    TF_Tensor *value = TFE_TensorHandleResolve(h, status.s);
    if (!status.Ok()) return Fail(env, "reading a constant: " + status.Message());
    const std::string name = NextName(r, "const");
    TF_OperationDescription *d = TF_NewOperation(r->graph, "Const", name.c_str());
    TF_SetAttrType(d, "dtype", dtype);
    TF_SetAttrTensor(d, "value", value, status.s);
    if (status.Ok()) op = TF_FinishOperation(d, status.s);
    TF_DeleteTensor(value);
    if (!status.Ok()) return Fail(env, "Const: " + status.Message());
  }
  *out = TF_Output{op, 0};
  r->captured[id] = Record(r, *out);
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Attributes, in tfjs-node's form: { name, type (TF_ATTR_*), value } with arrays for list attributes.

bool IsArray(napi_env env, napi_value v) {
  bool a = false;
  napi_is_array(env, v, &a);
  return a;
}

bool Numbers(napi_env env, napi_value array, std::vector<double> *out) {
  uint32_t n = 0;
  if (!Check(env, napi_get_array_length(env, array, &n), "array length")) return false;
  out->resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (!Check(env, napi_get_element(env, array, i, &e), "array element")) return false;
    napi_valuetype t;
    napi_typeof(env, e, &t);
    if (t == napi_boolean) {
      bool b;
      napi_get_value_bool(env, e, &b);
      (*out)[i] = b ? 1 : 0;
    } else if (!Check(env, napi_get_value_double(env, e, &(*out)[i]), "a number in an attribute list")) {
      return false;
    }
  }
  return true;
}

bool SetAttr(napi_env env, TF_OperationDescription *d, napi_value attr) {
  napi_value name_v, type_v, value;
  if (!Check(env, napi_get_named_property(env, attr, "name", &name_v), "attr.name") ||
      !Check(env, napi_get_named_property(env, attr, "type", &type_v), "attr.type") ||
      !Check(env, napi_get_named_property(env, attr, "value", &value), "attr.value")) {
    return false;
  }
  size_t len = 0;
  if (!Check(env, napi_get_value_string_utf8(env, name_v, nullptr, 0, &len), "attr.name")) return false;
  std::string name(len, '\0');
  napi_get_value_string_utf8(env, name_v, &name[0], len + 1, &len);
  int32_t type = 0;
  if (!Check(env, napi_get_value_int32(env, type_v, &type), "attr.type")) return false;
  const char *n = name.c_str();
  const bool list = IsArray(env, value);
  std::vector<double> xs;
  if (list && type != TF_ATTR_SHAPE && !Numbers(env, value, &xs)) return false;
  switch (type) {
    case TF_ATTR_STRING: {
      size_t l = 0;
      if (!Check(env, napi_get_value_string_utf8(env, value, nullptr, 0, &l), "string attr")) return false;
      std::string s(l, '\0');
      napi_get_value_string_utf8(env, value, &s[0], l + 1, &l);
      TF_SetAttrString(d, n, s.data(), s.size());
      return true;
    }
    case TF_ATTR_INT: {
      if (list) {
        std::vector<int64_t> v(xs.begin(), xs.end());
        TF_SetAttrIntList(d, n, v.data(), static_cast<int>(v.size()));
      } else {
        int64_t v;
        if (!Check(env, napi_get_value_int64(env, value, &v), "int attr")) return false;
        TF_SetAttrInt(d, n, v);
      }
      return true;
    }
    case TF_ATTR_FLOAT: {
      if (list) {
        std::vector<float> v(xs.begin(), xs.end());
        TF_SetAttrFloatList(d, n, v.data(), static_cast<int>(v.size()));
      } else {
        double v;
        if (!Check(env, napi_get_value_double(env, value, &v), "float attr")) return false;
        TF_SetAttrFloat(d, n, static_cast<float>(v));
      }
      return true;
    }
    case TF_ATTR_BOOL: {
      if (list) {
        std::vector<unsigned char> v(xs.size());
        for (size_t i = 0; i < xs.size(); i++) v[i] = xs[i] != 0;
        TF_SetAttrBoolList(d, n, v.data(), static_cast<int>(v.size()));
      } else {
        bool v;
        if (!Check(env, napi_get_value_bool(env, value, &v), "bool attr")) return false;
        TF_SetAttrBool(d, n, v ? 1 : 0);
      }
      return true;
    }
    case TF_ATTR_TYPE: {
      if (list) {
        std::vector<TF_DataType> v(xs.size());
        for (size_t i = 0; i < xs.size(); i++) v[i] = static_cast<TF_DataType>(static_cast<int>(xs[i]));
        TF_SetAttrTypeList(d, n, v.data(), static_cast<int>(v.size()));
      } else {
        int32_t v;
        if (!Check(env, napi_get_value_int32(env, value, &v), "type attr")) return false;
        TF_SetAttrType(d, n, static_cast<TF_DataType>(v));
      }
      return true;
    }
    case TF_ATTR_SHAPE: {
      std::vector<double> dims;
      if (!Numbers(env, value, &dims)) return false;
      std::vector<int64_t> v(dims.begin(), dims.end());
      TF_SetAttrShape(d, n, v.data(), static_cast<int>(v.size()));
      return true;
    }
    default:
      return Fail(env, "attribute '" + name + "' has a type genlab cannot record (" + std::to_string(type) + ")");
  }
}

// ---------------------------------------------------------------------------------------------------------
// N-API entry points.

bool Args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (!Check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments")) return false;
  if (argc < want) return Fail(env, "expected " + std::to_string(want) + " arguments, got " + std::to_string(argc));
  return true;
}

bool Int32s(napi_env env, napi_value array, std::vector<int32_t> *out) {
  std::vector<double> xs;
  if (!Numbers(env, array, &xs)) return false;
  out->assign(xs.begin(), xs.end());
  return true;
}

std::string String(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return "";
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, &s[0], len + 1, &len);
  return s;
}

napi_value Undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value GraphBegin(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, 1, argv)) return nullptr;
  if (recording) {
    Fail(env, "a recording is already under way (graphEnd or graphAbort it first)");
    return nullptr;
  }
  std::vector<int32_t> feedable;
  if (!Int32s(env, argv[0], &feedable)) return nullptr;
  recording.reset(new Recording());
  recording->feedable.insert(feedable.begin(), feedable.end());
  return Undefined(env);
}

napi_value GraphAbort(napi_env env, napi_callback_info) {
  recording.reset();
  return Undefined(env);
}

napi_value GraphOp(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, 4, argv)) return nullptr;
  Recording *r = recording.get();
  if (!r) {
    Fail(env, "graphOp outside a recording");
    return nullptr;
  }
  TFJSBackend *backend = Backend(env);
  if (!backend) return nullptr;
  const std::string op_type = String(env, argv[0]);
  std::vector<int32_t> ids;
  int32_t num_outputs = 0;
  if (!Int32s(env, argv[2], &ids) || !Check(env, napi_get_value_int32(env, argv[3], &num_outputs), "numOutputs")) {
    return nullptr;
  }
  std::vector<TF_Output> in(ids.size());
  for (size_t i = 0; i < ids.size(); i++) {
    if (ids[i] < 0) {
      const size_t k = static_cast<size_t>(-ids[i] - 1);
      if (k >= r->tensors.size()) {
        Fail(env, op_type + ": recorded tensor " + std::to_string(ids[i]) + " does not exist");
        return nullptr;
      }
      in[i] = r->tensors[k];
    } else if (!Capture(env, backend, r, ids[i], &in[i])) {
      return nullptr;
    }
  }
  std::vector<bool> is_list;
  std::string error;
  if (!InputArgIsList(r->graph, op_type, &is_list, &error)) {
    Fail(env, op_type + ": " + error);
    return nullptr;
  }
  size_t lists = 0;
  for (bool l : is_list) lists += l;
  if (lists > 1) {
    Fail(env, op_type + " has " + std::to_string(lists) + " list inputs; genlab can record ops with at most one");
    return nullptr;
  }
  if (lists == 0 ? ids.size() != is_list.size() : ids.size() + 1 < is_list.size()) {
    Fail(env, op_type + ": " + std::to_string(ids.size()) + " inputs for " + std::to_string(is_list.size()) + " arguments");
    return nullptr;
  }
  const std::string name = NextName(r, "op");
  TF_OperationDescription *d = TF_NewOperation(r->graph, op_type.c_str(), name.c_str());
  const size_t list_len = ids.size() - (is_list.size() - lists);  // the list takes what the fixed arguments leave
  size_t next = 0;
  for (bool l : is_list) {
    if (l) {
      TF_AddInputList(d, in.data() + next, static_cast<int>(list_len));
      next += list_len;
    } else {
      TF_AddInput(d, in[next++]);
    }
  }
  std::vector<TF_Operation *> resources;
  for (const TF_Output &x : in) {
    if (TF_OperationOutputType(x) != TF_RESOURCE) continue;
    resources.push_back(x.oper);
    auto last = r->last_use.find(x.oper);
    if (last != r->last_use.end()) TF_AddControlInput(d, last->second);
  }
  uint32_t n_attrs = 0;
  if (!Check(env, napi_get_array_length(env, argv[1], &n_attrs), "attrs")) return nullptr;
  for (uint32_t i = 0; i < n_attrs; i++) {
    napi_value a;
    if (!Check(env, napi_get_element(env, argv[1], i, &a), "attr") || !SetAttr(env, d, a)) return nullptr;
  }
  Status status;
  TF_Operation *op = TF_FinishOperation(d, status.s);
  if (!status.Ok()) {
    Fail(env, op_type + ": " + status.Message());
    return nullptr;
  }
  for (TF_Operation *res : resources) r->last_use[res] = op;
  if (TF_OperationNumOutputs(op) != num_outputs) {
    Fail(env, op_type + " has " + std::to_string(TF_OperationNumOutputs(op)) + " outputs, " + std::to_string(num_outputs) + " expected");
    return nullptr;
  }
  napi_value result;
  napi_create_array_with_length(env, num_outputs, &result);
  for (int32_t i = 0; i < num_outputs; i++) {
    const TF_Output out{op, i};
    const int rank = TF_GraphGetTensorNumDims(r->graph, out, status.s);
    if (!status.Ok() || rank < 0) {
      Fail(env, op_type + ": output " + std::to_string(i) + " has an unknown rank");
      return nullptr;
    }
    std::vector<int64_t> dims(rank);
    TF_GraphGetTensorShape(r->graph, out, dims.data(), rank, status.s);
    napi_value shape;
    napi_create_array_with_length(env, rank, &shape);
    for (int j = 0; j < rank; j++) {
      if (dims[j] < 0) {
        Fail(env, op_type + ": output " + std::to_string(i) + " has an unknown dimension " + std::to_string(j));
        return nullptr;
      }
      napi_value dim;
      napi_create_int64(env, dims[j], &dim);
      napi_set_element(env, shape, j, dim);
    }
    napi_value obj, id, dtype;
    napi_create_object(env, &obj);
    napi_create_int32(env, -(Record(r, out) + 1), &id);
    napi_create_int32(env, TF_OperationOutputType(out), &dtype);
    napi_set_named_property(env, obj, "id", id);
    napi_set_named_property(env, obj, "shape", shape);
    napi_set_named_property(env, obj, "dtype", dtype);
    napi_set_element(env, result, i, obj);
  }
  return result;
}

napi_value GraphEnd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, 2, argv)) return nullptr;
  std::unique_ptr<Recording> r = std::move(recording);
  if (!r) {
    Fail(env, "graphEnd without a recording");
    return nullptr;
  }
  TFJSBackend *backend = Backend(env);
  if (!backend) return nullptr;
  const std::string fn_name = String(env, argv[0]);
  std::vector<int32_t> ids;
  if (!Int32s(env, argv[1], &ids)) return nullptr;
  // Every output through its own Identity: a function output may then be an input or repeat another output.
  std::vector<TF_Output> outputs(ids.size());
  Status status;
  for (size_t i = 0; i < ids.size(); i++) {
    TF_Output src;
    if (ids[i] < 0) {
      const size_t k = static_cast<size_t>(-ids[i] - 1);
      if (k >= r->tensors.size()) {
        Fail(env, "output " + std::to_string(ids[i]) + " was not recorded");
        return nullptr;
      }
      src = r->tensors[k];
    } else if (!Capture(env, backend, r.get(), ids[i], &src)) {
      return nullptr;
    }
    const std::string name = NextName(r.get(), "output");
    TF_OperationDescription *d = TF_NewOperation(r->graph, "Identity", name.c_str());
    TF_AddInput(d, src);
    TF_Operation *op = TF_FinishOperation(d, status.s);
    if (!status.Ok()) {
      Fail(env, "output Identity: " + status.Message());
      return nullptr;
    }
    outputs[i] = TF_Output{op, 0};
  }
  TF_Function *fn = TF_GraphToFunction(r->graph, fn_name.c_str(), 0, -1, nullptr, static_cast<int>(r->inputs.size()),
                                       r->inputs.data(), static_cast<int>(outputs.size()), outputs.data(), nullptr,
                                       nullptr, "a genlab step recorded from tfjs ops", status.s);
  if (!status.Ok()) {
    Fail(env, "TF_GraphToFunction: " + status.Message());
    return nullptr;
  }
  TFE_ContextAddFunction(GenlabGraphAccess::Context(backend), fn, status.s);
  TF_DeleteFunction(fn);
  if (!status.Ok()) {
    Fail(env, "TFE_ContextAddFunction: " + status.Message());
    return nullptr;
  }
  napi_value result;
  napi_create_array_with_length(env, r->input_ids.size(), &result);
  for (size_t i = 0; i < r->input_ids.size(); i++) {
    napi_value id;
    napi_create_int32(env, r->input_ids[i], &id);
    napi_set_element(env, result, static_cast<uint32_t>(i), id);
  }
  return result;
}

napi_value GraphResourceShape(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!Args(env, info, 3, argv)) return nullptr;
  if (!recording) return Undefined(env);  // only recordings need it
  int32_t id = 0, dtype = 0;
  std::vector<double> dims;
  if (!Check(env, napi_get_value_int32(env, argv[0], &id), "id") || !Check(env, napi_get_value_int32(env, argv[1], &dtype), "dtype") ||
      !Numbers(env, argv[2], &dims)) {
    return nullptr;
  }
  recording->resource_shapes[id] = {static_cast<TF_DataType>(dtype), std::vector<int64_t>(dims.begin(), dims.end())};
  return Undefined(env);
}

napi_value RemoveFunction(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, 1, argv)) return nullptr;
  TFJSBackend *backend = Backend(env);
  if (!backend) return nullptr;
  Status status;
  TFE_ContextRemoveFunction(GenlabGraphAccess::Context(backend), String(env, argv[0]).c_str(), status.s);
  if (!status.Ok()) {
    Fail(env, "TFE_ContextRemoveFunction: " + status.Message());
    return nullptr;
  }
  return Undefined(env);
}

}  // namespace

/** Adds genlab's calls to the binding's exports (called from the module's init, after tfjs-node's own). */
napi_value GenlabExtendBinding(napi_env env, napi_value exports) {
  if (exports == nullptr) return exports;
  napi_property_descriptor props[] = {
      {"graphBegin", nullptr, GraphBegin, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphOp", nullptr, GraphOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphEnd", nullptr, GraphEnd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphAbort", nullptr, GraphAbort, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphResourceShape", nullptr, GraphResourceShape, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"removeFunction", nullptr, RemoveFunction, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  napi_value version;
  napi_create_int32(env, 1, &version);
  napi_set_named_property(env, exports, "genlabGraphVersion", version);
  return exports;
}

}  // namespace tfnodejs
