namespace Dbuild.IntegrationTests.RegistryClient.Faults;

/// <summary>What the <see cref="FaultProxy"/> does to a request a <see cref="FaultRule"/> matched.</summary>
internal enum FaultKind
{
    /// <summary>Never answer (the request is not forwarded): the client must time out waiting for headers.</summary>
    StallHeaders,
    /// <summary>Forward, send the headers and <see cref="FaultRule.AfterBytes"/> of the body, then send nothing more.</summary>
    StallBody,
    /// <summary>Answer <see cref="FaultRule.Status"/> with <see cref="FaultRule.RetryAfter"/> without forwarding.</summary>
    Status,
    /// <summary>Close the connection without forwarding or answering.</summary>
    DropBeforeForward,
    /// <summary>Forward (the registry acts on the request), then close the connection without answering.</summary>
    DropAfterForward,
    /// <summary>Forward, send the headers and <see cref="FaultRule.AfterBytes"/> of the body, then close the connection.</summary>
    DropMidBody,
}

/// <summary>
/// One line of a fault script: requests with <see cref="Method"/> whose path contains <see cref="PathContains"/> get
/// <see cref="Kind"/>, for the first <see cref="Times"/> matches (then they pass through).
/// </summary>
internal sealed record FaultRule(string Method, string PathContains, FaultKind Kind, int Times = 1)
{
    public long AfterBytes { get; init; }
    public int Status { get; init; } = 503;
    /// <summary>Seconds, or <c>date+N</c> for an HTTP-date N seconds after the answer is made.</summary>
    public string? RetryAfter { get; init; }
}

/// <summary>A request as the proxy saw it, with the fault it got (null: passed through).</summary>
internal sealed record SeenRequest(string Method, string Path, string? Range, DateTimeOffset At, FaultKind? Fault);
