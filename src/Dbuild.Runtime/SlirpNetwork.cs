using System.Diagnostics;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>
/// The default network of a RUN step, as BuildKit's rootless default and rootlesskit give it: a network namespace of
/// its own, held by a small process (<c>unshare --net</c>), with a tap device that slirp4netns connects to the outside
/// by user-mode NAT (10.0.2.100/24, gateway 10.0.2.2, DNS forwarder 10.0.2.3) and <c>--disable-host-loopback</c>, so the
/// host's 127.0.0.1 is out of reach. Works as root and as root of a user namespace (the namespace is created in ours).
/// The container joins the namespace by path. Both processes are killed and reaped by <see cref="Dispose"/>; if dbuild
/// itself dies, both see their stdin close (the holder reads it, slirp4netns watches it as its exit fd) and exit.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SlirpNetwork : IDisposable
{
    /// <summary>rootlesskit's and BuildKit's default MTU for slirp4netns.</summary>
    private const int Mtu = 65520;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _holder;
    private Process? _slirp;

    private SlirpNetwork(Process holder) => _holder = holder;

    /// <summary>The network namespace for the runtime spec.</summary>
    public string NamespacePath => $"/proc/{_holder.Id}/ns/net";

    /// <summary>Creates the namespace and waits until slirp4netns has configured it (tap0, routes, loopback up).</summary>
    public static async Task<SlirpNetwork> StartAsync(CancellationToken cancellationToken)
    {
        string slirp = OciRuntime.FindTool("slirp4netns") ?? throw new InvalidOperationException(
            "The default network of RUN steps needs slirp4netns: install Debian's 'slirp4netns' (or use RUN --network=none).");
        string unshare = OciRuntime.FindTool("unshare") ?? throw new InvalidOperationException(
            "The default network of RUN steps needs unshare: install Debian's 'util-linux'.");
        // The holder prints a line once it is in its new namespace (so slirp4netns never attaches to ours), then waits on stdin.
        Process holder = Start(unshare, ["--net", "--", "/bin/sh", "-c", "echo ready && exec cat"]);
        var network = new SlirpNetwork(holder);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ReadyTimeout);
            string? ready = await holder.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (ready != "ready")
            {
                string error = await holder.StandardError.ReadToEndAsync(timeout.Token).ConfigureAwait(false);
                throw new InvalidOperationException($"Creating the step's network namespace failed: {error.Trim()}");
            }
            // slirp4netns writes "1" to the ready fd once configured; fd 3 is our stdout pipe, its own chatter goes to stderr.
            network._slirp = Start("/bin/sh", ["-c", "exec \"$0\" \"$@\" 3>&1 4<&0 1>&2", slirp, "--configure", $"--mtu={Mtu}",
                "--disable-host-loopback", "--enable-seccomp", "--ready-fd=3", "--exit-fd=4", holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "tap0"]);
            Task<string> stderr = network._slirp.StandardError.ReadToEndAsync(CancellationToken.None);
            char[] buffer = new char[1];
            int read = await network._slirp.StandardOutput.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            if (read != 1 || buffer[0] != '1')
            {
                await network._slirp.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                throw new InvalidOperationException($"slirp4netns could not set up the step's network: {(await stderr.ConfigureAwait(false)).Trim()}");
            }
            return network;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            network.Dispose();
            throw new InvalidOperationException($"slirp4netns did not set up the step's network within {ReadyTimeout.TotalSeconds:0} s.");
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Waits for a start still under way (it ends by itself: bounded, and cancelled with the step), then disposes what it made.</summary>
    public static void DisposeWhenStarted(Task<SlirpNetwork> start)
    {
        ((IAsyncResult)start).AsyncWaitHandle.WaitOne(ReadyTimeout + ReapTimeout);
        if (start.IsCompletedSuccessfully) { start.Result.Dispose(); }
    }

    /// <summary>Kills slirp4netns and the namespace's holder and reaps both (the container is gone already).</summary>
    public void Dispose()
    {
        Stop(_slirp);
        Stop(_holder);
    }

    private static void Stop(Process? process)
    {
        if (process is null) { return; }
        try
        {
            if (!process.HasExited) { process.Kill(); }
            process.WaitForExit(ReapTimeout);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        finally { process.Dispose(); }
    }

    private static Process Start(string path, IEnumerable<string> arguments)
    {
        var startInfo = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) { startInfo.ArgumentList.Add(argument); }
        return Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{path}'.");
    }
}
