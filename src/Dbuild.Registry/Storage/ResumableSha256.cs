using System.Buffers;
using System.Runtime.InteropServices;

namespace Dbuild.Registry.Storage;

/// <summary>
/// SHA-256 whose running state can be saved and resumed in another process: the upload's hash travels with the upload
/// in storage, so any replica continues an upload without reading its bytes back. OpenSSL's <c>SHA256_CTX</c> (the same
/// library .NET hashes with on Linux) is a plain 112-byte struct whose layout has not changed since OpenSSL 0.9.8.
/// </summary>
internal sealed unsafe class ResumableSha256
{
    /// <summary>sizeof(SHA256_CTX): h[8], Nl, Nh, data[16], num, md_len — 28 unsigned ints.</summary>
    public const int StateSize = 112;
    private const string Crypto = "libcrypto.so.3";

    private readonly byte[] _context = new byte[StateSize];

    public ResumableSha256()
    {
        fixed (byte* context = _context)
        {
            if (SHA256_Init(context) != 1) { throw new InvalidOperationException("SHA256_Init failed."); }
        }
    }

    /// <summary>Resumes from <see cref="Export"/>'s bytes.</summary>
    public static ResumableSha256 Import(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateSize) { throw new InvalidDataException($"A saved SHA-256 state is {StateSize} bytes, not {state.Length}."); }
        var hash = new ResumableSha256();
        state.CopyTo(hash._context);
        return hash;
    }

    public byte[] Export() => (byte[])_context.Clone();

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) { return; }
        fixed (byte* context = _context)
        fixed (byte* bytes = data)
        {
            if (SHA256_Update(context, bytes, (nuint)data.Length) != 1) { throw new InvalidOperationException("SHA256_Update failed."); }
        }
    }

    public void Append(ReadOnlySequence<byte> data)
    {
        foreach (ReadOnlyMemory<byte> segment in data) { Append(segment.Span); }
    }

    /// <summary>The digest of everything appended so far; the running state is left as it was.</summary>
    public byte[] Current()
    {
        byte[] copy = Export();
        byte[] digest = new byte[32];
        fixed (byte* context = copy)
        fixed (byte* output = digest)
        {
            if (SHA256_Final(output, context) != 1) { throw new InvalidOperationException("SHA256_Final failed."); }
        }
        return digest;
    }

    [DllImport(Crypto, CallingConvention = CallingConvention.Cdecl)]
    private static extern int SHA256_Init(byte* context);

    [DllImport(Crypto, CallingConvention = CallingConvention.Cdecl)]
    private static extern int SHA256_Update(byte* context, byte* data, nuint length);

    [DllImport(Crypto, CallingConvention = CallingConvention.Cdecl)]
    private static extern int SHA256_Final(byte* digest, byte* context);
}
