namespace Dbuild.Fuzz;

/// <summary>A parser accepted an input but broke one of its own promises (a round trip, a bound); afl-fuzz records a crash.</summary>
internal sealed class FuzzPropertyException(string message) : Exception(message);
