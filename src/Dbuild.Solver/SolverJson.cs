using System.Text.Json.Serialization;

using Dbuild.Solver.Cache;

namespace Dbuild.Solver;

/// <summary>
/// Source-generated metadata for the build cache's records: they are read on every build (the context's hash cache
/// holds one record per file), and generated code spares a short CLI run the reflection and emitted accessors.
/// </summary>
[JsonSerializable(typeof(CacheRecord))]
[JsonSerializable(typeof(CachedLayer))]
[JsonSerializable(typeof(StepHistoryRecord))]
[JsonSerializable(typeof(CacheIndex))]
[JsonSerializable(typeof(Dictionary<string, ContextTree.HashRecord>))]
[JsonSerializable(typeof(DateTimeOffset?))]
internal sealed partial class SolverJson : JsonSerializerContext;
